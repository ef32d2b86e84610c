"""Where reads go: the managers' reports read from the replica when there is one
(`DATABASE_REPLICA_URL`); everything else, and every write, uses the primary.

Routing by use rather than by model: the same tables (access events, allocations) are read
by pages that must see a write made a moment ago (the primary) and by reports that can be a
second behind (the replica). `reads_from_replica()` marks the reports' reads; the router
sends reads made inside it to the replica, if one is configured.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS

REPLICA = "replica"
_reading_from_replica: ContextVar[bool] = ContextVar("reading_from_replica", default=False)

Row = TypeVar("Row")


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


@contextmanager
def reads_from_replica() -> Iterator[None]:
    token = _reading_from_replica.set(True)
    try:
        yield
    finally:
        _reading_from_replica.reset(token)


class ReplicaRouter:
    def db_for_read(self, model, **hints) -> str | None:
        if _reading_from_replica.get() and replica_configured():
            return REPLICA
        return None

    def db_for_write(self, model, **hints) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True  # the replica is a copy of the primary: the same rows

    def allow_migrate(self, db: str, app_label: str, model_name=None, **hints) -> bool:
        # The replica gets its schema from the primary by replication.
        return db != REPLICA
