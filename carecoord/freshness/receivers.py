"""The model signals that change generations (carecoord/freshness): every save and
delete of the product's models, resolved to whom it concerns."""

from __future__ import annotations

from django.apps import apps
from django.db.models import Model
from django.db.models.signals import m2m_changed, post_delete, post_save

from carecoord.freshness import mark_changed

OUR_APPS = {"carecoord", "plans", "consent", "carers", "peersupport"}
# Written on every page or by the trail itself, and never part of what is worked out
# from the records: the audit trail (a page view is not a change), notifications (their
# count is read afresh), the queue of exports, API tokens' last use, the grant tables
# (each written with its consent decision, which is seen).
NOT_CHANGES = {
    "carecoord.AccessEvent", "carecoord.AuditChainHead", "carecoord.AuditArchive",
    "carecoord.Notification", "carecoord.Export", "carecoord.ApiToken",
    "consent.PlanItemUserObjectPermission", "consent.PlanItemGroupObjectPermission",
}

# --- Resolving a written row to whom it concerns --------------------------------------------

# The models a row may point at, and what each tells us. Looked up by label, not imported:
# this module sits under the apps whose models it reads (docs/architecture.md).
_SERVICE_USER_VIA = {
    "plans.Plan": "service_user_id",
    "plans.PlanItem": "plan__service_user_id",
    "plans.PlanVersion": "plan__service_user_id",
    "carecoord.Episode": "service_user_id",
    "carers.CarerRelationship": "service_user_id",
}


def _model(label: str) -> type[Model]:
    return apps.get_model(label)


def _concerns(instance: Model) -> tuple[set[int], set[int], set[int], bool]:
    """(service user ids, user ids, team ids, everyone) a written row concerns."""
    label = instance._meta.label
    service_users: set[int] = set()
    users: set[int] = set()
    teams: set[int] = set()
    if label == "carecoord.ServiceUser":
        service_users.add(instance.pk)
        teams.add(instance.team_id)
    elif label == "carecoord.Team":
        # A team's thresholds shape everyone's "getting stuck" in it; rarely changed.
        return set(), set(), {instance.pk}, True
    elif label == "carecoord.User":
        users.add(instance.pk)
    elif label == "carers.Carer":
        users.add(instance.user_id)
    known = bool(service_users or users or teams)
    for field in instance._meta.concrete_fields:
        if not field.is_relation or field.related_model is None:
            continue
        value = getattr(instance, field.attname)
        if value is None:
            continue
        target = field.related_model._meta.label
        if target == "carecoord.ServiceUser":
            service_users.add(value)
        elif target == "carecoord.User":
            users.add(value)
        elif target == "carecoord.Team":
            teams.add(value)
        elif target in _SERVICE_USER_VIA:
            cached = field.get_cached_value(instance, None)
            if target == "plans.Plan" and cached is not None:
                service_users.add(cached.service_user_id)
            else:
                service_users.update(
                    _model(target).objects.filter(pk=value)
                    .values_list(_SERVICE_USER_VIA[target], flat=True))
        elif target == "carers.Carer":
            # A carer's own records (needs, check-ins): theirs, and what the people they
            # care for see of them.
            carer = _model("carers.Carer").objects.filter(pk=value).values("user_id").first()
            if carer:
                users.add(carer["user_id"])
            service_users.update(
                _model("carers.CarerRelationship").objects.filter(carer_id=value)
                .values_list("service_user_id", flat=True))
        else:
            continue
        known = True
    return service_users, users, teams, not known


def _teams_of(service_user_ids: set[int]) -> set[int]:
    return set(_model("carecoord.ServiceUser").objects.filter(pk__in=service_user_ids)
               .values_list("team_id", flat=True))


def _row_written(sender: type[Model], instance: Model, **kwargs: object) -> None:
    if sender._meta.app_label not in OUR_APPS or sender._meta.label in NOT_CHANGES:
        return
    if kwargs.get("raw"):  # fixtures being loaded
        return
    if set(kwargs.get("update_fields") or ()) == {"last_login"}:  # a sign-in changes nothing
        return
    service_users, users, teams, everyone = _concerns(instance)
    if service_users:
        teams |= _teams_of(service_users - ({instance.pk} if sender._meta.label
                                            == "carecoord.ServiceUser" else set()))
    mark_changed(service_user_ids=service_users, user_ids=users, team_ids=teams,
                 everything=everyone)


def _members_changed(sender: type[Model], instance: Model, action: str, model: type[Model],
                     pk_set: set[int] | None, **kwargs: object) -> None:
    """A team's coordinators or managers changed (Team.coordinators, Team.managers)."""
    if not action.startswith("post_") or instance._meta.app_label not in OUR_APPS:
        return
    ids = set(pk_set or ())
    if instance._meta.label == "carecoord.Team":
        mark_changed(team_ids=[instance.pk], user_ids=ids, everything=action == "post_clear")
    elif model._meta.label == "carecoord.Team":
        mark_changed(user_ids=[instance.pk], team_ids=ids,
                     everything=action == "post_clear")
    else:
        mark_changed(everything=True)


def connect() -> None:
    """Called once per process from the app's ready()."""
    post_save.connect(_row_written, dispatch_uid="freshness-save")
    post_delete.connect(_row_written, dispatch_uid="freshness-delete")
    m2m_changed.connect(_members_changed, dispatch_uid="freshness-m2m")
