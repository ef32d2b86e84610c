"""On PostgreSQL, the database itself refuses UPDATE and DELETE on access events, so even
raw SQL from the application's own connection cannot rewrite history. (SQLite, the
laptop demo, relies on the ORM guard.) The chain's head row is created here."""

from django.db import migrations

TRIGGER_SQL = """
CREATE OR REPLACE FUNCTION carecoord_access_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'access events are append-only';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER carecoord_access_event_no_update_delete
    BEFORE UPDATE OR DELETE ON carecoord_accessevent
    FOR EACH ROW EXECUTE FUNCTION carecoord_access_event_append_only();

CREATE TRIGGER carecoord_access_event_no_truncate
    BEFORE TRUNCATE ON carecoord_accessevent
    FOR EACH STATEMENT EXECUTE FUNCTION carecoord_access_event_append_only();
"""

DROP_SQL = """
DROP TRIGGER IF EXISTS carecoord_access_event_no_update_delete ON carecoord_accessevent;
DROP TRIGGER IF EXISTS carecoord_access_event_no_truncate ON carecoord_accessevent;
DROP FUNCTION IF EXISTS carecoord_access_event_append_only();
"""


def add_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGER_SQL)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL)


def create_head(apps, schema_editor):
    apps.get_model("carecoord", "AuditChainHead").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("carecoord", "0002_initial")]

    operations = [
        migrations.RunPython(add_trigger, drop_trigger),
        migrations.RunPython(create_head, migrations.RunPython.noop),
    ]
