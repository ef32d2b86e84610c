"""A few small related rows read inside their parent's query, as one JSON list, and
turned back into model instances.

A page that shows, for each of 80 plan items, its goal agreements and progress notes
would otherwise make one more query for each kind of related row (a prefetch), and
Django builds a queryset per parent row to hold each prefetched list. Read as JSON lists
in the parent's own rows they cost no query, and `instances` gives back model instances
with their fields' own Python types (dates, datetimes), so templates and serializers read
them as before (issue 15).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, TypeVar

from django.conf import settings
from django.db import models
from django.db.models import JSONField, Subquery
from django.utils import timezone

M = TypeVar("M", bound=models.Model)


class JSONRows(Subquery):
    """A subquery of `.values(row=JSONObject(...))` as one JSON list in the outer row, in
    the subquery's order (PostgreSQL's jsonb_agg; SQLite's json_group_array). Always a
    list: an empty one when there are no rows."""

    template = "(SELECT COALESCE(jsonb_agg(j.\"row\"), '[]'::jsonb) FROM (%(subquery)s) j)"
    output_field = JSONField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, template=(
            # json(): a JSON value, not text, when nested in another row's JSON.
            "json((SELECT json_group_array(json(j.\"row\")) FROM (%(subquery)s) j))"),
            **extra_context)


def _value(field: models.Field, value: Any) -> Any:
    if value is None:
        return None
    value = field.to_python(value)
    if (isinstance(value, dt.datetime) and settings.USE_TZ
            and timezone.is_naive(value)):
        # SQLite's JSON holds the stored UTC text without an offset.
        value = timezone.make_aware(value, dt.UTC)
    return value


def instances(model: type[M], rows: Iterable[dict] | None) -> list[M]:
    """Model instances from JSON rows whose keys are the model's field attribute names
    (`item_id`, not `item`); other keys are left for the caller. As the ORM makes them
    from a query (`from_db`): fields not in the row are deferred, never a default."""
    if not rows:
        return []
    fields = model._meta.concrete_fields
    made = []
    for row in rows:
        # from_db takes the values in the model's field order.
        present = [field for field in fields if field.attname in row]
        made.append(model.from_db(None, {field.attname for field in present},
                                  [_value(field, row[field.attname]) for field in present]))
    return made
