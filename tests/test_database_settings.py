"""How the application talks to PostgreSQL."""

from __future__ import annotations

from django.db import connection


def test_postgresql_compiles_no_queries_just_in_time(db):
    """The policy's predicates make the planner cost small reads above jit_above_cost;
    compiling them took 200 ms or more a request at the scale of a trust (issue 15)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
