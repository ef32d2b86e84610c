"""Who holds each responsibility moves from `PlanItem.details` into `Responsibility`.

A carer holder keeps their relationship only if it is one of this service user's carer
relationships (ended ones included: history stays true); any other number cannot be
trusted and is kept, in words, as a service holder. `holder*` keys on items of other
types never meant anything and are dropped. Reversible."""

from django.db import migrations

HOLDER_KEYS = ("holder", "holder_relationship", "holder_service")
NO_LONGER_LINKED = "A carer who is no longer linked"


def forwards(apps, schema_editor):
    PlanItem = apps.get_model("plans", "PlanItem")
    Responsibility = apps.get_model("plans", "Responsibility")
    CarerRelationship = apps.get_model("carers", "CarerRelationship")
    for item in PlanItem.objects.select_related("plan").iterator():
        details = dict(item.details or {})
        if not any(key in details for key in HOLDER_KEYS):
            continue
        holder = details.get("holder")
        relationship = details.get("holder_relationship")
        service = (details.get("holder_service") or "").strip()
        for key in HOLDER_KEYS:
            details.pop(key, None)
        item.details = details
        item.save(update_fields=["details"])
        if item.item_type != "responsibility" or holder not in (
            "service_user", "carer", "coordinator", "service"
        ):
            continue
        row = {"item": item, "holder": holder}
        if holder == "carer":
            valid = (
                isinstance(relationship, int) and not isinstance(relationship, bool)
                and CarerRelationship.objects.filter(
                    pk=relationship, service_user_id=item.plan.service_user_id).exists()
            )
            if valid:
                row["holder_relationship_id"] = relationship
            else:
                row.update(holder="service", holder_service=NO_LONGER_LINKED)
        elif holder == "service":
            row["holder_service"] = service or "A service"
        Responsibility.objects.create(**row)


def backwards(apps, schema_editor):
    Responsibility = apps.get_model("plans", "Responsibility")
    for row in Responsibility.objects.select_related("item"):
        item = row.item
        details = dict(item.details or {})
        details["holder"] = row.holder
        if row.holder_relationship_id is not None:
            details["holder_relationship"] = row.holder_relationship_id
        if row.holder_service:
            details["holder_service"] = row.holder_service
        item.details = details
        item.save(update_fields=["details"])
    Responsibility.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("plans", "0003_responsibility_and_constraints"),
        ("carers", "0002_assessmentrequest_carerinsight_carerneeds_and_more"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
