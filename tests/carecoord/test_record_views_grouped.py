"""The service user's "Who has looked at your record": plain words, newest first, repeated
views by one person on one day counted together, a page at a time, and only ever their
own record's events."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.db.models import JSONField, Value
from django.db.models.functions import Cast
from django.test.utils import CaptureQueriesContext

from carecoord.audit.services import access_event_record, access_events_record
from carecoord.records.models import User
from carecoord.records.selectors import _ItemsListed
from consent.policy import Basis
from tests import clock
from tests.conftest import client_for


def _on(day):
    return f"{day:%-d %B %Y}"


def _looked(world, actor, action, basis, *, times=1, service_user=None, target="x:1"):
    for _ in range(times):
        access_event_record(actor=actor, service_user=service_user or world.service_user,
                            action=action, target=target, basis=str(basis))


def _page(world, query=""):
    response = client_for(world.service_user_account).get(
        f"/service-users/{world.service_user.pk}/who-has-looked/{query}")
    assert response.status_code == 200
    return response.content.decode()


def _rows(html: str) -> list[str]:
    cells = re.findall(r'aria-hidden="true">What happened </span>(.*?)</td>', html)
    return [re.sub(r"\s+", " ", cell).strip() for cell in cells]


def test_repeated_views_are_grouped_in_plain_words_newest_first(world):
    world.carer_account.preferred_name = "Linda"
    world.carer_account.save()
    with clock.travel_to(clock.days(-1)):
        _looked(world, world.coordinator, "service_user_record.view",
                Basis.ALLOCATED_COORDINATOR)
    access_events_record(actor=world.carer_account, service_user=world.service_user,
                         action="carer_item.view",
                         targets=[(f"plan_item:{n}", str(Basis.CARER_CONSENT))
                                  for n in range(7)])
    _looked(world, world.coordinator, "plan_detail.view", Basis.ALLOCATED_COORDINATOR,
            times=3)

    html = _page(world)

    assert _rows(html) == [
        f"Sam Coordinator read your plan 3 times on {_on(clock.today())}",
        f"Linda looked at 7 shared items on {_on(clock.today())}",
        f"Sam Coordinator opened your record on {_on(clock.days(-1))}",
    ]
    assert "You shared it with them" in html
    assert "They are your care coordinator" in html
    # No codes where plain words will do.
    assert "carer_item.view" not in html
    assert "plan_detail" not in html
    assert "Linda Carer" not in html  # named as she asked to be called


def test_the_list_pages_through_the_rest(world):
    for back in range(24, -1, -1):  # 25 days, one group each, oldest written first
        with clock.travel_to(clock.days(-back)):
            _looked(world, world.coordinator, "service_user_record.view",
                    Basis.ALLOCATED_COORDINATOR, times=2)

    first, second = _page(world), _page(world, "?page=2")

    assert len(_rows(first)) == 20
    assert _rows(first)[0] == (
        f"Sam Coordinator opened your record 2 times on {_on(clock.today())}")
    assert len(_rows(second)) == 5
    assert _rows(second)[-1] == (
        f"Sam Coordinator opened your record 2 times on {_on(clock.days(-24))}")
    assert "Page 2 of 2" in first
    assert "nhsuk-pagination" in first


def test_the_record_page_shows_the_latest_and_links_to_the_rest(world):
    _looked(world, world.coordinator, "service_user_record.view", Basis.ALLOCATED_COORDINATOR)
    html = client_for(world.service_user_account).get(
        f"/service-users/{world.service_user.pk}/").content.decode()
    section = html.split("Who has looked at your record", 1)[1]
    assert f"Sam Coordinator opened your record on {_on(clock.today())}" in section
    assert f"/service-users/{world.service_user.pk}/who-has-looked/" in section


def _queries_for_list(world, events: int, start: int) -> tuple[int, str]:
    access_events_record(actor=world.carer_account, service_user=world.service_user,
                         action="carer_item.view",
                         targets=[(f"plan_item:{n}", str(Basis.CARER_CONSENT))
                                  for n in range(start, start + events)])
    client = client_for(world.service_user_account)
    url = f"/service-users/{world.service_user.pk}/who-has-looked/"
    client.get(url)  # warm the session
    with CaptureQueriesContext(connection) as queries:
        html = client.get(url).content.decode()
    return len(queries), html


def test_grouping_is_done_in_the_database(world):
    few, _ = _queries_for_list(world, 3, 0)
    many, html = _queries_for_list(world, 400, 3)
    assert many == few  # as many queries for 403 events as for 3
    assert "looked at 403 shared items" in html


def test_only_their_own_records_events_are_shown(world):
    _looked(world, world.other_coordinator, "service_user_record.view",
            Basis.ALLOCATED_COORDINATOR, service_user=world.other_service_user)
    # Not about a record at all (no service user): never on anyone's list.
    access_event_record(actor=world.manager, action="report.view", target="team:1:x",
                        basis="team manager")
    html = _page(world)
    assert _rows(html) == []
    assert "Nobody else has opened your record yet." in html
    assert world.other_coordinator.full_name not in html


@pytest.mark.parametrize("who", ["coordinator", "other_service_user_account", "carer_account",
                                 "manager", "admin"])
def test_nobody_else_may_open_the_list(world, who):
    response = client_for(getattr(world, who)).get(
        f"/service-users/{world.service_user.pk}/who-has-looked/")
    assert response.status_code == 404


def test_the_api_keeps_codes_and_adds_plain_words(world):
    _looked(world, world.coordinator, "plan_detail.view", Basis.ALLOCATED_COORDINATOR)
    url = f"/api/v1/service-users/{world.service_user.pk}/access-events/"
    (event,) = client_for(world.service_user_account).get(url).json()["results"]
    assert event["action"] == "plan_detail.view"
    assert event["what"] == "read your plan"
    assert event["why"] == "They are your care coordinator"
    assert client_for(world.other_service_user_account).get(url).status_code == 404


@pytest.mark.parametrize(("details", "count"), [("[11, 12, 13]", 3), ("[]", 1),
                                                ('{"item": 4}', 1), ("null", 1)])
def test_an_event_listing_item_ids_counts_each_item(world, details, count):
    """Ready for page views written as one event with the ids of the items shown."""
    counted = (User.objects.filter(pk=world.coordinator.pk)
               .annotate(n=_ItemsListed(Cast(Value(details), JSONField())))
               .values_list("n", flat=True).get())
    assert counted == count
