"""The consent tables' repeated columns must agree with the rows they repeat (ADR 0008):

- a decision's item is in the decision's plan and section, and its plan is its service
  user's;
- the current decision for a carer and an item (ItemConsent) is that carer's decision about
  that item; a section rule (SectionRule) is that carer's decision about that section of
  that plan, and is not about one item.

A CHECK constraint cannot look at another table, so on PostgreSQL these are constraint
triggers. They also guard the other side: a plan item cannot move to another plan or
section, a plan to another service user, nor a decision change its scope, while consent
rows say otherwise. Those update triggers only run when one of the repeated columns
really changes (their WHEN clauses), so an ordinary save costs nothing. The triggers are
DEFERRABLE INITIALLY IMMEDIATE: a bad row is refused by the statement that writes it, and
a bulk load that writes children before parents may `SET CONSTRAINTS ... DEFERRED`.

SQLite (the laptop demo) has no such triggers; there `ConsentDecision.clean()` and the
consent services ask the same questions.

Rows written before this migration are checked first: if any disagree, the migration
stops and names them, changing nothing. Which of the repeated columns was right cannot be
known from the rows, and decisions are history, so they are for a person to look at.
"""

from django.db import migrations
from django.db.models import F, Q

TRIGGER_SQL = """
CREATE OR REPLACE FUNCTION consent_decision_scope_check() RETURNS trigger AS $$
DECLARE
    owner_id bigint;
    item_plan_id bigint;
    item_section varchar;
BEGIN
    SELECT service_user_id INTO owner_id FROM plans_plan WHERE id = NEW.plan_id;
    IF owner_id IS DISTINCT FROM NEW.service_user_id THEN
        RAISE EXCEPTION 'consent decision %: plan % is not service user %''s plan',
                NEW.id, NEW.plan_id, NEW.service_user_id
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'consent_decision_plan_is_service_users';
    END IF;
    IF NEW.item_id IS NOT NULL THEN
        SELECT plan_id, section INTO item_plan_id, item_section
            FROM plans_planitem WHERE id = NEW.item_id;
        IF item_plan_id IS DISTINCT FROM NEW.plan_id THEN
            RAISE EXCEPTION 'consent decision %: item % is not in plan %',
                    NEW.id, NEW.item_id, NEW.plan_id
                USING ERRCODE = 'check_violation',
                      CONSTRAINT = 'consent_decision_item_in_plan';
        END IF;
        IF item_section IS DISTINCT FROM NEW.section THEN
            RAISE EXCEPTION 'consent decision %: item % is not in section %',
                    NEW.id, NEW.item_id, NEW.section
                USING ERRCODE = 'check_violation',
                      CONSTRAINT = 'consent_decision_item_in_section';
        END IF;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        -- A decision that is someone's current one cannot change what it is about.
        IF EXISTS (SELECT 1 FROM consent_itemconsent
                   WHERE decision_id = NEW.id
                     AND (carer_id <> NEW.carer_id OR item_id IS DISTINCT FROM NEW.item_id))
           OR EXISTS (SELECT 1 FROM consent_sectionrule
                      WHERE decision_id = NEW.id
                        AND (carer_id <> NEW.carer_id OR plan_id <> NEW.plan_id
                             OR section <> NEW.section OR NEW.item_id IS NOT NULL)) THEN
            RAISE EXCEPTION 'consent decision %: it is a current decision for another scope',
                    NEW.id
                USING ERRCODE = 'check_violation',
                      CONSTRAINT = 'consent_current_decision_matches';
        END IF;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER consent_decision_scope_on_insert
    AFTER INSERT ON consent_consentdecision
    DEFERRABLE INITIALLY IMMEDIATE
    FOR EACH ROW EXECUTE FUNCTION consent_decision_scope_check();

CREATE CONSTRAINT TRIGGER consent_decision_scope_on_update
    AFTER UPDATE ON consent_consentdecision
    DEFERRABLE INITIALLY IMMEDIATE
    FOR EACH ROW
    WHEN ((OLD.service_user_id, OLD.carer_id, OLD.plan_id, OLD.section, OLD.item_id)
          IS DISTINCT FROM
          (NEW.service_user_id, NEW.carer_id, NEW.plan_id, NEW.section, NEW.item_id))
    EXECUTE FUNCTION consent_decision_scope_check();


CREATE OR REPLACE FUNCTION consent_item_consent_check() RETURNS trigger AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM consent_consentdecision
                   WHERE id = NEW.decision_id
                     AND carer_id = NEW.carer_id AND item_id = NEW.item_id) THEN
        RAISE EXCEPTION 'item consent %: decision % is not carer %''s decision about item %',
                NEW.id, NEW.decision_id, NEW.carer_id, NEW.item_id
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'consent_current_decision_matches';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER consent_item_consent_matches_decision
    AFTER INSERT OR UPDATE ON consent_itemconsent
    DEFERRABLE INITIALLY IMMEDIATE
    FOR EACH ROW EXECUTE FUNCTION consent_item_consent_check();


CREATE OR REPLACE FUNCTION consent_section_rule_check() RETURNS trigger AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM consent_consentdecision
                   WHERE id = NEW.decision_id AND item_id IS NULL
                     AND carer_id = NEW.carer_id AND plan_id = NEW.plan_id
                     AND section = NEW.section) THEN
        RAISE EXCEPTION
                'section rule %: decision % is not carer %''s rule for section % of plan %',
                NEW.id, NEW.decision_id, NEW.carer_id, NEW.section, NEW.plan_id
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'consent_current_decision_matches';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER consent_section_rule_matches_decision
    AFTER INSERT OR UPDATE ON consent_sectionrule
    DEFERRABLE INITIALLY IMMEDIATE
    FOR EACH ROW EXECUTE FUNCTION consent_section_rule_check();


-- The other side: the plans app never moves an item or a plan, and these make sure
-- nothing does while a consent decision is about it.
CREATE OR REPLACE FUNCTION consent_plan_item_stays_check() RETURNS trigger AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM consent_consentdecision
               WHERE item_id = NEW.id AND plan_id <> NEW.plan_id) THEN
        RAISE EXCEPTION 'plan item %: consent decisions are about it in plan %',
                NEW.id, OLD.plan_id
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'consent_decision_item_in_plan';
    END IF;
    IF EXISTS (SELECT 1 FROM consent_consentdecision
               WHERE item_id = NEW.id AND section <> NEW.section) THEN
        RAISE EXCEPTION 'plan item %: consent decisions are about it in section %',
                NEW.id, OLD.section
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'consent_decision_item_in_section';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER consent_plan_item_stays
    AFTER UPDATE ON plans_planitem
    DEFERRABLE INITIALLY IMMEDIATE
    FOR EACH ROW
    WHEN ((OLD.plan_id, OLD.section) IS DISTINCT FROM (NEW.plan_id, NEW.section))
    EXECUTE FUNCTION consent_plan_item_stays_check();


CREATE OR REPLACE FUNCTION consent_plan_stays_check() RETURNS trigger AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM consent_consentdecision
               WHERE plan_id = NEW.id AND service_user_id <> NEW.service_user_id) THEN
        RAISE EXCEPTION 'plan %: consent decisions are about it as another service user''s',
                NEW.id
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'consent_decision_plan_is_service_users';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER consent_plan_stays
    AFTER UPDATE ON plans_plan
    DEFERRABLE INITIALLY IMMEDIATE
    FOR EACH ROW
    WHEN (OLD.service_user_id IS DISTINCT FROM NEW.service_user_id)
    EXECUTE FUNCTION consent_plan_stays_check();
"""

DROP_SQL = """
DROP TRIGGER IF EXISTS consent_plan_stays ON plans_plan;
DROP FUNCTION IF EXISTS consent_plan_stays_check();
DROP TRIGGER IF EXISTS consent_plan_item_stays ON plans_planitem;
DROP FUNCTION IF EXISTS consent_plan_item_stays_check();
DROP TRIGGER IF EXISTS consent_section_rule_matches_decision ON consent_sectionrule;
DROP FUNCTION IF EXISTS consent_section_rule_check();
DROP TRIGGER IF EXISTS consent_item_consent_matches_decision ON consent_itemconsent;
DROP FUNCTION IF EXISTS consent_item_consent_check();
DROP TRIGGER IF EXISTS consent_decision_scope_on_update ON consent_consentdecision;
DROP TRIGGER IF EXISTS consent_decision_scope_on_insert ON consent_consentdecision;
DROP FUNCTION IF EXISTS consent_decision_scope_check();
"""


def _ids(queryset) -> str:
    ids = list(queryset.order_by("pk").values_list("pk", flat=True)[:21])
    shown = ", ".join(str(pk) for pk in ids[:20])
    return f"{shown}, ..." if len(ids) > 20 else shown


def refuse_disagreeing_rows(apps, schema_editor):
    """Stop, naming them, if rows written before the constraints already disagree."""
    db = schema_editor.connection.alias
    ConsentDecision = apps.get_model("consent", "ConsentDecision")
    ItemConsent = apps.get_model("consent", "ItemConsent")
    SectionRule = apps.get_model("consent", "SectionRule")
    decisions = ConsentDecision.objects.using(db).filter(
        ~Q(service_user_id=F("plan__service_user_id"))
        | (Q(item__isnull=False)
           & (~Q(item__plan_id=F("plan_id")) | ~Q(item__section=F("section"))))
    )
    item_consents = ItemConsent.objects.using(db).filter(
        ~Q(carer_id=F("decision__carer_id"))
        | Q(decision__item__isnull=True) | ~Q(item_id=F("decision__item_id"))
    )
    section_rules = SectionRule.objects.using(db).filter(
        ~Q(carer_id=F("decision__carer_id")) | ~Q(plan_id=F("decision__plan_id"))
        | ~Q(section=F("decision__section")) | Q(decision__item__isnull=False)
    )
    problems = [
        f"{name} {_ids(rows)}"
        for name, rows in (("consent decisions", decisions),
                           ("current item decisions (ItemConsent)", item_consents),
                           ("section rules (SectionRule)", section_rules))
        if rows.exists()
    ]
    if problems:
        raise RuntimeError(
            "These consent rows disagree with the plan, item or decision they repeat, so "
            "the consent constraints cannot be added: " + "; ".join(problems) + ". Nothing "
            "was changed. Which column is right cannot be told from the rows: look at "
            "them by hand (ADR 0008), then migrate again.")


def add_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # params=None: no %-interpolation, the functions' messages use % themselves.
        schema_editor.execute(TRIGGER_SQL, params=None)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL, params=None)


class Migration(migrations.Migration):
    dependencies = [("consent", "0001_initial"), ("plans", "0002_reviewreminder")]

    operations = [
        migrations.RunPython(refuse_disagreeing_rows, migrations.RunPython.noop),
        migrations.RunPython(add_triggers, drop_triggers),
    ]
