"""Writing a chained batch's places in the hash chain (`seq`, `prev_hash`, `hash`).

On PostgreSQL a batch is one `UPDATE … FROM (VALUES …)` per thousand events: `bulk_update`
writes the same thing as three thousand-branch `CASE` expressions that PostgreSQL
evaluates row by row, which made chaining a large backlog the slowest part of the audit
trail (issue 15). Elsewhere (SQLite, the demo) `bulk_update` is kept.

Only the chainer calls this: the model's queryset refuses updates to everyone else, and
PostgreSQL lets these three columns be filled in once (migration 0013)."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection, models

from carecoord.audit.models import AccessEvent

CHUNK = 1000


def chain_fill(events: Sequence[AccessEvent]) -> None:
    """Save each event's `seq`, `prev_hash` and `hash`, already set on it."""
    if connection.vendor != "postgresql":
        models.QuerySet.bulk_update(
            models.QuerySet(model=AccessEvent), events, ["seq", "prev_hash", "hash"],
            batch_size=CHUNK)
        return
    table = connection.ops.quote_name(AccessEvent._meta.db_table)
    with connection.cursor() as cursor:
        for start in range(0, len(events), CHUNK):
            chunk = events[start:start + CHUNK]
            rows = ", ".join(["(%s::bigint, %s::bigint, %s, %s)"] * len(chunk))
            params: list[object] = []
            for event in chunk:
                params += [event.pk, event.seq, event.prev_hash, event.hash]
            # Only placeholders and the model's own table name are put into the text.
            cursor.execute(f"UPDATE {table} AS e SET seq = v.seq, prev_hash = v.prev_hash, hash = v.hash FROM (VALUES {rows}) AS v(id, seq, prev_hash, hash) WHERE e.id = v.id", params)  # noqa: S608, E501  # nosec B608
