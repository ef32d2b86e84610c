"""On PostgreSQL the database itself keeps signed history as it was signed, as it already
keeps the access audit trail (carecoord 0003): even raw SQL from the application's own
connection cannot rewrite or remove it.

- A plan version's content (plan, number, snapshot, content hash, plan revision) never
  changes, signed or not. What the services do change is allowed: `agreed_at` is set once
  (from empty) and then stays; `proposed_by` may become empty (the user's account was
  deleted: SET_NULL). `proposed_at` is not part of the signed content (the demo data moves
  it back to simulate time passing).
- A version that anyone has signed or declined, or that is agreed, is never deleted.
- A signature (or a decline) is never changed or deleted.
- Neither table can be emptied with TRUNCATE.
SQLite, the laptop demo, relies on the ORM's guards (PlanVersionQuerySet, PlanVersion.save).
"""

from django.db import migrations

TRIGGER_SQL = """
CREATE OR REPLACE FUNCTION plans_planversion_signed_history() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        RAISE EXCEPTION 'signed history is permanent: plan versions cannot be truncated';
    END IF;
    IF TG_OP = 'DELETE' THEN
        IF OLD.agreed_at IS NOT NULL
           OR EXISTS (SELECT 1 FROM plans_signature WHERE version_id = OLD.id) THEN
            RAISE EXCEPTION 'signed history is permanent: a signed plan version cannot be deleted';
        END IF;
        RETURN OLD;
    END IF;
    IF NEW.id IS DISTINCT FROM OLD.id
       OR NEW.plan_id IS DISTINCT FROM OLD.plan_id
       OR NEW.number IS DISTINCT FROM OLD.number
       OR NEW.snapshot IS DISTINCT FROM OLD.snapshot
       OR NEW.content_hash IS DISTINCT FROM OLD.content_hash
       OR NEW.plan_revision IS DISTINCT FROM OLD.plan_revision THEN
        RAISE EXCEPTION 'signed history is permanent: a plan version''s content cannot change';
    END IF;
    IF OLD.agreed_at IS NOT NULL AND NEW.agreed_at IS DISTINCT FROM OLD.agreed_at THEN
        RAISE EXCEPTION 'signed history is permanent: an agreed plan version stays agreed';
    END IF;
    IF NEW.proposed_by_id IS DISTINCT FROM OLD.proposed_by_id AND NEW.proposed_by_id IS NOT NULL THEN
        RAISE EXCEPTION 'signed history is permanent: who proposed a version cannot change';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION plans_signature_signed_history() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'signed history is permanent: signatures cannot be changed or removed';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER plans_planversion_signed_history
    BEFORE UPDATE OR DELETE ON plans_planversion
    FOR EACH ROW EXECUTE FUNCTION plans_planversion_signed_history();
CREATE TRIGGER plans_planversion_no_truncate
    BEFORE TRUNCATE ON plans_planversion
    FOR EACH STATEMENT EXECUTE FUNCTION plans_planversion_signed_history();

CREATE TRIGGER plans_signature_signed_history
    BEFORE UPDATE OR DELETE ON plans_signature
    FOR EACH ROW EXECUTE FUNCTION plans_signature_signed_history();
CREATE TRIGGER plans_signature_no_truncate
    BEFORE TRUNCATE ON plans_signature
    FOR EACH STATEMENT EXECUTE FUNCTION plans_signature_signed_history();
"""

DROP_SQL = """
DROP TRIGGER IF EXISTS plans_planversion_signed_history ON plans_planversion;
DROP TRIGGER IF EXISTS plans_planversion_no_truncate ON plans_planversion;
DROP TRIGGER IF EXISTS plans_signature_signed_history ON plans_signature;
DROP TRIGGER IF EXISTS plans_signature_no_truncate ON plans_signature;
DROP FUNCTION IF EXISTS plans_planversion_signed_history();
DROP FUNCTION IF EXISTS plans_signature_signed_history();
"""


def add_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGER_SQL)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL)


class Migration(migrations.Migration):
    dependencies = [("plans", "0004_responsibility_from_details")]

    operations = [migrations.RunPython(add_triggers, drop_triggers)]
