"""The access audit trail: every read of someone else's record leaves exactly one event;
the service user can see who looked; events cannot be changed or removed (by the ORM, and
on PostgreSQL by the database itself); and the hash chain exposes any tampering."""

from __future__ import annotations

import threading
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from carecoord.audit.models import AccessEvent, AppendOnlyError
from carecoord.audit.services import (
    access_event_record,
    access_events_record,
    audit_chain_extend,
    audit_chain_pending,
)
from tests.conftest import client_for
from tests.factories import ServiceUserFactory, UserFactory

ON_POSTGRESQL = connection.vendor == "postgresql"


def _views_of(service_user):
    return list(AccessEvent.objects.filter(service_user=service_user))


# --- One event per read of someone else's record -------------------------------------

READ_SURFACES = {
    "record page": "/service-users/{su}/",
    "edit page": "/service-users/{su}/edit/",
    "episode page": "/service-users/{su}/episodes/{episode}/",
    "add a carer page": "/service-users/{su}/carers/new/",
    "API detail": "/api/v1/service-users/{su}/",
}


def _path(template: str, world) -> str:
    episode = world.service_user.episodes.get(discharged_on__isnull=True)
    return template.format(su=world.service_user.pk, episode=episode.pk)


@pytest.mark.parametrize("template", READ_SURFACES.values(), ids=READ_SURFACES.keys())
def test_a_coordinators_read_writes_exactly_one_event(world, template):
    assert AccessEvent.objects.count() == 0
    before = timezone.now()

    response = client_for(world.coordinator).get(_path(template, world))

    assert response.status_code == 200
    (event,) = AccessEvent.objects.all()
    assert event.actor == world.coordinator
    assert event.service_user == world.service_user
    assert event.action.endswith(".view")
    assert event.target == f"service_user:{world.service_user.pk}"
    assert event.basis == "allocated care coordinator"
    assert event.ip_address == "127.0.0.1"
    assert before <= event.occurred_at <= timezone.now()


def test_each_read_is_its_own_event(world):
    client = client_for(world.coordinator)
    for _ in range(3):
        assert client.get(f"/service-users/{world.service_user.pk}/").status_code == 200
    assert client.get(f"/api/v1/service-users/{world.service_user.pk}/").status_code == 200
    assert len(_views_of(world.service_user)) == 4


@pytest.mark.parametrize(
    "template",
    ["/service-users/{su}/", "/service-users/{su}/edit/", "/api/v1/service-users/{su}/"],
    ids=["record page", "edit page", "API detail"],
)
def test_the_service_user_opening_their_own_record_writes_nothing(world, template):
    response = client_for(world.service_user_account).get(_path(template, world))
    assert response.status_code == 200
    assert AccessEvent.objects.count() == 0


OUTSIDERS = [
    "other_coordinator", "other_service_user_account", "carer_account", "other_carer_account",
    "manager", "other_manager", "admin", "no_role",
]


@pytest.mark.parametrize("outsider", OUTSIDERS)
@pytest.mark.parametrize("template", READ_SURFACES.values(), ids=READ_SURFACES.keys())
def test_a_refused_read_writes_nothing(world, outsider, template):
    response = client_for(getattr(world, outsider)).get(_path(template, world))
    assert response.status_code == 404
    assert AccessEvent.objects.count() == 0


def test_a_client_cannot_choose_the_logged_address_unless_the_proxy_is_trusted(
    world, settings
):
    settings.TRUSTED_PROXY_COUNT = 0
    client = client_for(world.coordinator)
    client.get(f"/service-users/{world.service_user.pk}/", HTTP_X_FORWARDED_FOR="203.0.113.9")
    (event,) = AccessEvent.objects.all()
    assert event.ip_address == "127.0.0.1"


def test_behind_a_trusted_proxy_the_forwarded_client_address_is_logged(world, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    client = client_for(world.coordinator)
    # Our one proxy appended the address it saw (203.0.113.9) to what the client sent.
    client.get(f"/api/v1/service-users/{world.service_user.pk}/",
               HTTP_X_FORWARDED_FOR="198.51.100.66, 203.0.113.9")
    (event,) = AccessEvent.objects.all()
    assert event.ip_address == "203.0.113.9"


def test_behind_two_proxies_the_address_two_hops_from_the_right_is_logged(world, settings):
    settings.TRUSTED_PROXY_COUNT = 2
    client = client_for(world.coordinator)
    client.get(f"/service-users/{world.service_user.pk}/",
               HTTP_X_FORWARDED_FOR="198.51.100.66, 203.0.113.9, 10.0.0.1")
    (event,) = AccessEvent.objects.all()
    assert event.ip_address == "203.0.113.9"


@pytest.mark.parametrize(
    "forwarded",
    ["not-an-ip-address", "203.0.113.9; DROP", "", " , ", "999.1.1.1", "x" * 500],
)
def test_a_forged_or_broken_forwarded_header_falls_back_and_never_fails(
    world, settings, forwarded
):
    settings.TRUSTED_PROXY_COUNT = 1
    client = client_for(world.coordinator)
    response = client.get(f"/api/v1/service-users/{world.service_user.pk}/",
                          HTTP_X_FORWARDED_FOR=forwarded)
    assert response.status_code == 200
    (event,) = AccessEvent.objects.all()
    assert event.ip_address == "127.0.0.1"


def test_a_header_shorter_than_the_proxy_chain_is_not_believed(world, settings):
    settings.TRUSTED_PROXY_COUNT = 2
    client = client_for(world.coordinator)
    client.get(f"/service-users/{world.service_user.pk}/", HTTP_X_FORWARDED_FOR="203.0.113.9")
    (event,) = AccessEvent.objects.all()
    assert event.ip_address == "127.0.0.1"


# --- What the service user sees --------------------------------------------------------


def test_the_service_user_sees_who_has_looked_at_their_record(world):
    own_page = f"/service-users/{world.service_user.pk}/"
    service_user_client = client_for(world.service_user_account)

    page = service_user_client.get(own_page).content.decode()
    assert "Who has looked at your record" in page
    assert "Nobody else has opened your record yet." in page

    client_for(world.coordinator).get(own_page)
    # Someone else's view of someone else's record is not theirs to see.
    client_for(world.other_coordinator).get(f"/service-users/{world.other_service_user.pk}/")

    page = service_user_client.get(own_page).content.decode()
    section = page.split("Who has looked at your record", 1)[1]
    assert "Sam Coordinator" in section
    assert "They are your care coordinator" in section
    assert world.other_coordinator.full_name not in section
    assert "Nobody else has opened your record yet." not in section


def test_the_coordinator_does_not_see_the_who_has_looked_list(world):
    client_for(world.coordinator).get(f"/service-users/{world.service_user.pk}/")
    page = client_for(world.coordinator).get(f"/service-users/{world.service_user.pk}/")
    assert page.status_code == 200
    assert "Who has looked at your record" not in page.content.decode()


# --- Append-only in the ORM ------------------------------------------------------------


@pytest.fixture
def events(world):
    written = [
        access_event_record(
            actor=world.coordinator, service_user=world.service_user,
            action="service_user_record.view", target=f"service_user:{world.service_user.pk}",
            basis="allocated care coordinator", ip_address="127.0.0.1",
        )
        for _ in range(5)
    ]
    assert audit_chain_extend() == 5
    return written


def _save_changed(event):
    event.basis = "forged"
    event.save()


ORM_WRITES = {
    "save an existing event": _save_changed,
    "save an existing event with update_fields": lambda e: e.save(update_fields=["basis"]),
    "delete an event": lambda e: e.delete(),
    "manager update": lambda e: AccessEvent.objects.update(basis="forged"),
    "queryset update": lambda e: AccessEvent.objects.filter(pk=e.pk).update(basis="forged"),
    "manager delete": lambda e: AccessEvent.objects.delete(),
    "queryset delete": lambda e: AccessEvent.objects.filter(pk=e.pk).delete(),
    "related manager delete": lambda e: e.service_user.access_events.all().delete(),
    "bulk_update": lambda e: AccessEvent.objects.bulk_update([e], ["basis"]),
    "bulk_create": lambda e: AccessEvent.objects.bulk_create(
        [AccessEvent(seq=999, occurred_at=timezone.now(), action="x", target="x", basis="x",
                     prev_hash="0" * 64, hash="0" * 64)]
    ),
}


@pytest.mark.parametrize("write", ORM_WRITES.values(), ids=ORM_WRITES.keys())
def test_the_orm_refuses_to_change_or_remove_events(events, write):
    event = AccessEvent.objects.get(seq=3)
    with pytest.raises(AppendOnlyError):
        write(event)
    assert AccessEvent.objects.count() == 5
    assert AccessEvent.objects.get(seq=3).basis == "allocated care coordinator"
    call_command("verify_audit_chain", stdout=StringIO())


# --- Append-only in PostgreSQL ---------------------------------------------------------

def _execute(sql: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql)


RAW_WRITES = {
    "UPDATE": "UPDATE carecoord_accessevent SET basis = 'forged' WHERE seq = 3",
    "DELETE": "DELETE FROM carecoord_accessevent WHERE seq = 3",
    "TRUNCATE": "TRUNCATE carecoord_accessevent CASCADE",
}


@pytest.mark.postgresql_only  # the append-only trigger is PostgreSQL's
@pytest.mark.parametrize("sql", RAW_WRITES.values(), ids=RAW_WRITES.keys())
def test_postgresql_refuses_raw_sql_that_changes_events(events, sql):
    with transaction.atomic(), connection.cursor() as cursor:
        # Run the deferred foreign-key checks of the events just written first, or
        # PostgreSQL refuses the TRUNCATE for that reason instead.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        _execute(sql)
    assert AccessEvent.objects.count() == 5
    assert AccessEvent.objects.get(seq=3).basis == "allocated care coordinator"


# --- The hash chain --------------------------------------------------------------------


def _verify() -> str:
    out = StringIO()
    call_command("verify_audit_chain", stdout=out)
    return out.getvalue()


def _tamper(*statements: tuple[str, list]) -> None:
    """Change events behind the application's back, as someone with database access
    would: on PostgreSQL with the append-only trigger switched off for the transaction."""
    with transaction.atomic(), connection.cursor() as cursor:
        if ON_POSTGRESQL:
            cursor.execute("SET LOCAL session_replication_role = replica")
        for sql, params in statements:
            cursor.execute(sql, params)
        if ON_POSTGRESQL:
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")


def test_an_empty_chain_is_ok(db):
    assert "OK: 0 access events" in _verify()


def test_an_untouched_chain_is_ok(events, world):
    # Also events written by pages, in between.
    client_for(world.coordinator).get(f"/service-users/{world.service_user.pk}/")
    assert "OK: 6 access events, chain intact." in _verify()


def test_changing_an_events_content_is_detected(events):
    _tamper(("UPDATE carecoord_accessevent SET basis = %s WHERE seq = 3", ["team manager"]))
    with pytest.raises(CommandError, match=r"#3\b"):
        _verify()


def test_changing_who_looked_is_detected(events, world):
    _tamper(("UPDATE carecoord_accessevent SET actor_id = %s WHERE seq = 4",
             [world.manager.pk]))
    with pytest.raises(CommandError, match=r"#4\b"):
        _verify()


def test_deleting_a_middle_event_is_detected(events):
    _tamper(("DELETE FROM carecoord_accessevent WHERE seq = 3", []))
    with pytest.raises(CommandError, match=r"#3\b"):
        _verify()


def test_deleting_the_last_event_is_detected(events):
    _tamper(("DELETE FROM carecoord_accessevent WHERE seq = 5", []))
    with pytest.raises(CommandError, match=r"#5\b"):
        _verify()


def test_a_wrong_hash_with_a_matching_next_link_is_detected(events):
    # Event #3's hash and #4's link to it are changed to the same wrong value: the links
    # agree, but #3's content no longer matches its hash.
    wrong = "f" * 64
    _tamper(
        ("UPDATE carecoord_accessevent SET hash = %s WHERE seq = 3", [wrong]),
        ("UPDATE carecoord_accessevent SET prev_hash = %s WHERE seq = 4", [wrong]),
    )
    with pytest.raises(CommandError, match=r"#3\b"):
        _verify()


def test_a_rewritten_event_with_a_recomputed_hash_is_detected_at_the_next_link(events):
    # #3 is rewritten and re-hashed so it is consistent in itself; #4 is re-linked to it.
    # #4's own hash still covers the old link, so the chain breaks at #4.
    forged = AccessEvent.objects.get(seq=3)
    forged.basis = "team manager"
    new_hash = forged.compute_hash()
    _tamper(
        ("UPDATE carecoord_accessevent SET basis = %s, hash = %s WHERE seq = 3",
         [forged.basis, new_hash]),
        ("UPDATE carecoord_accessevent SET prev_hash = %s WHERE seq = 4", [new_hash]),
    )
    with pytest.raises(CommandError, match=r"#4\b"):
        _verify()


def test_a_rewritten_tail_is_detected_against_the_chain_head(events):
    # Rewriting #3 and re-hashing every later event makes the events agree with each
    # other; only the chain head (last_hash) still remembers the real end of the chain.
    rows = list(AccessEvent.objects.order_by("seq"))
    statements = []
    prev = rows[1].hash
    for event in rows[2:]:
        if event.seq == 3:
            event.basis = "team manager"
        event.prev_hash = prev
        event.hash = event.compute_hash()
        statements.append((
            "UPDATE carecoord_accessevent SET basis = %s, prev_hash = %s, hash = %s "
            "WHERE seq = %s", [event.basis, event.prev_hash, event.hash, event.seq],
        ))
        prev = event.hash
    _tamper(*statements)
    with pytest.raises(CommandError, match="Audit chain broken"):
        _verify()


# --- Concurrent writers ----------------------------------------------------------------

THREADS, PER_THREAD = 4, 10


@pytest.mark.postgresql_only  # SQLite (the laptop demo) has one writer at a time
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_unbroken_chain():
    actor = UserFactory()
    service_user = ServiceUserFactory()
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            start.wait(timeout=30)
            for i in range(PER_THREAD):
                access_event_record(
                    actor=actor, service_user=service_user, action="concurrency.view",
                    target=f"thread:{n}:{i}", basis="test",
                )
                if i % 3 == 0:
                    # Chainers run while others write, as on several worker machines.
                    audit_chain_extend(batch_size=4)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []

    total = THREADS * PER_THREAD
    assert f"OK: {total} access events, chain intact." in _verify()
    assert audit_chain_pending() == 0
    seqs = list(AccessEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, total + 1))
    targets = set(AccessEvent.objects.values_list("target", flat=True))
    assert targets == {f"thread:{n}:{i}" for n in range(THREADS) for i in range(PER_THREAD)}



# --- Appending takes no lock; the chainer fills each place in once ----------------------


@pytest.mark.postgresql_only  # SQLite has no row locks
@pytest.mark.django_db(transaction=True)
def test_a_read_is_written_while_the_chainer_holds_the_chain_head():
    """No reader waits on the chain head: with it locked by a chainer in another
    connection, an audited read still completes at once."""
    actor = UserFactory()
    service_user = ServiceUserFactory()
    audit_chain_extend()  # creates the head row
    locked, release, errors = threading.Event(), threading.Event(), []

    def hold_the_head() -> None:
        try:
            with transaction.atomic():
                from carecoord.audit.models import AuditChainHead
                AuditChainHead.objects.select_for_update().get(pk=1)
                locked.set()
                release.wait(timeout=30)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_head)
    holder.start()
    try:
        assert locked.wait(timeout=30)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '2s'")
            access_event_record(actor=actor, service_user=service_user, action="x.view",
                                target="plan:1", basis="test")
        # A second chainer does not wait either: it finds the head taken and returns.
        assert audit_chain_extend() == 0
    finally:
        release.set()
        holder.join(timeout=30)
    assert errors == []
    assert audit_chain_pending() == 1
    assert audit_chain_extend() == 1
    assert "OK: 1 access events, chain intact." in _verify()


def test_events_are_chained_in_the_order_they_were_written_across_batches(world):
    written = [
        access_event_record(actor=world.coordinator, service_user=world.service_user,
                            action="x.view", target=f"plan:{n}", basis="test")
        for n in range(7)
    ]
    assert all(event.seq is None and event.hash == "" for event in written)
    assert audit_chain_extend(batch_size=3) == 7
    chained = list(AccessEvent.objects.order_by("seq").values_list("seq", "target"))
    assert chained == [(n + 1, f"plan:{n}") for n in range(7)]
    assert audit_chain_extend() == 0
    assert "OK: 7 access events, chain intact." in _verify()


def test_verify_reports_events_waiting_for_the_chainer_without_chaining_them(events, world):
    access_event_record(actor=world.coordinator, service_user=world.service_user,
                        action="x.view", target="plan:1", basis="test")
    out = StringIO()
    call_command("verify_audit_chain", "--no-extend", stdout=out)
    assert "OK: 5 access events, chain intact. 1 more not chained yet." in out.getvalue()
    assert "OK: 6 access events, chain intact." in _verify()


def test_one_page_view_is_one_event_listing_what_it_showed(world):
    event = access_events_record(
        actor=world.coordinator, service_user=world.service_user, action="carer_item.view",
        targets=[("plan_item:1", "carer consent (decision 4)"),
                 ("plan_item:2", "carer consent (decision 5)")])
    assert AccessEvent.objects.count() == 1
    assert event.target == "plan_item: 2 items"
    assert event.basis == "carer consent"  # the reason both share
    assert event.shown_targets() == ["plan_item:1", "plan_item:2"]
    assert event.items == [["plan_item:1", "carer consent (decision 4)"],
                           ["plan_item:2", "carer consent (decision 5)"]]
    assert access_events_record(actor=world.coordinator, action="x.view", targets=[]) is None
    audit_chain_extend()
    # The items are part of what the hash covers.
    _tamper(("UPDATE carecoord_accessevent SET items = %s WHERE id = %s",
             ['[["plan_item:1", "carer consent (decision 4)"]]', event.pk]))
    with pytest.raises(CommandError, match=r"#1\b.*content"):
        _verify()


CHAIN_REWRITES = {
    "rechain a chained event": "UPDATE carecoord_accessevent SET hash = repeat('1', 64) "
                               "WHERE seq = 3",
    "change an unchained event while chaining it": (
        "UPDATE carecoord_accessevent SET basis = 'forged', seq = 99, "
        "prev_hash = repeat('1', 64), hash = repeat('1', 64) WHERE seq IS NULL"),
    "change an unchained event": "UPDATE carecoord_accessevent SET basis = 'forged' "
                                 "WHERE seq IS NULL",
}


@pytest.mark.postgresql_only  # the append-only trigger is PostgreSQL's
@pytest.mark.parametrize("sql", CHAIN_REWRITES.values(), ids=CHAIN_REWRITES.keys())
def test_postgresql_lets_the_chain_be_filled_in_once_and_nothing_else(events, world, sql):
    access_event_record(actor=world.coordinator, service_user=world.service_user,
                        action="x.view", target="plan:1", basis="test")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        _execute(sql)
    assert audit_chain_extend() == 1
    assert "OK: 6 access events, chain intact." in _verify()
