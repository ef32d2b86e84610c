"""The access audit trail becomes a PostgreSQL table partitioned by month (ADR 0027).

An existing table is converted in place: its rows are copied into a new partitioned table
with the same columns, indexes, foreign keys and append-only triggers, one partition per
month from the first event to three months ahead, plus a default partition. The unique
index on `seq` becomes a plain one (a unique index across partitions would have to include
the month); the chainer is the only writer of `seq` and `verify_audit_chain` checks it.
Reversible. SQLite (the laptop demo) keeps its plain table.
"""

import datetime as dt

from django.db import migrations, models
from django.utils import timezone

TABLE = "carecoord_accessevent"
MONTHS_AHEAD = 3

TRIGGERS = f"""
CREATE TRIGGER carecoord_access_event_no_update_delete
    BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION carecoord_access_event_append_only();
CREATE TRIGGER carecoord_access_event_no_truncate
    BEFORE TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION carecoord_access_event_append_only();
"""


def _next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def _partition_sql(name: str, bounds: str) -> str:
    # PostgreSQL does not copy statement triggers to partitions: TRUNCATE is refused on
    # each partition as on the parent.
    return (
        f"CREATE TABLE {name} PARTITION OF {TABLE} {bounds};"
        f"CREATE TRIGGER carecoord_access_event_no_truncate BEFORE TRUNCATE ON {name} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION carecoord_access_event_append_only();"
    )


def _shape(cursor) -> tuple[list[str], list[tuple[str, str]]]:
    """The table's index definitions (but its primary key) and foreign keys."""
    cursor.execute(
        "SELECT indexdef FROM pg_indexes WHERE tablename = %s AND indexname <> %s",
        [TABLE, f"{TABLE}_pkey"])
    indexes = [row[0] for row in cursor.fetchall()]
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype = 'f'", [TABLE])
    return indexes, list(cursor.fetchall())


def _rebuild(schema_editor, *, partitioned: bool) -> None:
    with schema_editor.connection.cursor() as cursor:
        indexes, foreign_keys = _shape(cursor)
        cursor.execute(f"SELECT min(occurred_at), max(id) FROM {TABLE}")  # noqa: S608
        first, max_id = cursor.fetchone()
        statements = [
            f"ALTER TABLE {TABLE} RENAME TO {TABLE}_old",
            f"ALTER TABLE {TABLE}_old ALTER COLUMN id DROP IDENTITY IF EXISTS",
            f"ALTER SEQUENCE IF EXISTS {TABLE}_id_seq OWNED BY NONE",
            f"ALTER SEQUENCE IF EXISTS {TABLE}_id_seq RENAME TO {TABLE}_id_seq_old",
            f"ALTER TABLE {TABLE}_old ALTER COLUMN id DROP DEFAULT",
        ]
        if partitioned:
            statements.append(f"CREATE TABLE {TABLE} (LIKE {TABLE}_old INCLUDING DEFAULTS) "
                              "PARTITION BY RANGE (occurred_at)")
            statements.append(f"ALTER TABLE {TABLE} ADD PRIMARY KEY (id, occurred_at)")
            statements.append(_partition_sql(f"{TABLE}_default", "DEFAULT"))
            today = timezone.now().astimezone(dt.UTC).date()
            month = min(first.astimezone(dt.UTC).date(), today).replace(day=1) if first \
                else today.replace(day=1)
            last = today.replace(day=1)
            for _ in range(MONTHS_AHEAD):
                last = _next_month(last)
            while month <= last:
                bounds = (f"FOR VALUES FROM ('{month.isoformat()} 00:00:00+00') "
                          f"TO ('{_next_month(month).isoformat()} 00:00:00+00')")
                statements.append(_partition_sql(f"{TABLE}_p{month:%Y%m}", bounds))
                month = _next_month(month)
        else:
            statements.append(f"CREATE TABLE {TABLE} (LIKE {TABLE}_old INCLUDING DEFAULTS)")
            statements.append(f"ALTER TABLE {TABLE} ADD PRIMARY KEY (id)")
        statements += [
            f"INSERT INTO {TABLE} SELECT * FROM {TABLE}_old",  # noqa: S608
            f"DROP TABLE {TABLE}_old CASCADE",
            f"DROP SEQUENCE IF EXISTS {TABLE}_id_seq_old",
            f"CREATE SEQUENCE {TABLE}_id_seq OWNED BY {TABLE}.id",
            f"ALTER TABLE {TABLE} ALTER COLUMN id SET DEFAULT nextval('{TABLE}_id_seq')",
        ]
        if max_id:
            statements.append(f"SELECT setval('{TABLE}_id_seq', {int(max_id)})")
        statements += indexes
        statements += [f"ALTER TABLE {TABLE} ADD CONSTRAINT {name} {definition}"
                       for name, definition in foreign_keys]
        statements.append(TRIGGERS)
        for statement in statements:
            cursor.execute(statement)


def partition(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        _rebuild(schema_editor, partitioned=True)


def unpartition(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        _rebuild(schema_editor, partitioned=False)


class Migration(migrations.Migration):

    dependencies = [
        ("carecoord", "0013_access_events_chained_later"),
    ]

    operations = [
        migrations.AlterField(
            model_name="accessevent",
            name="seq",
            field=models.BigIntegerField(db_index=True, editable=False, null=True),
        ),
        migrations.RunPython(partition, unpartition),
    ]
