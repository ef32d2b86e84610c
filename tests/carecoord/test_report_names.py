"""The names in the audit reports, worked out in two places that must agree: in SQL
(`service_user_identity`, `user_identity`, `service_user_name`: the CSV and the other
reports) and in Python (`identity_of`: the access-events page, which reads the names'
columns and puts them into words for its one page of rows; issue 15)."""

from __future__ import annotations

import pytest

from carecoord.audit.models import AccessEvent
from carecoord.audit.services import access_event_record
from carecoord.records.models import ServiceUser, User
from carecoord.reporting.reports.base import (
    identity_of,
    service_user_identity,
    service_user_name,
    user_identity,
)
from tests.factories import ServiceUserFactory, UserFactory

pytestmark = pytest.mark.django_db

# (preferred name, full name): none chosen, the same as the full name, a different one,
# one with markup-like and quoting characters, and an empty full name.
NAMES = [
    ("", "Alexandra Morgan"),
    ("Alexandra Morgan", "Alexandra Morgan"),
    ("Alex", "Alexandra Morgan"),
    ("<Jo> & \"Jo\"", "Joanna O'Neill"),
    ("Sam", ""),
    ("", ""),
]


@pytest.mark.parametrize(("preferred", "full"), NAMES)
def test_a_service_users_identity_is_the_same_in_python_and_in_sql(preferred, full):
    person = ServiceUserFactory(preferred_name=preferred, full_name=full)
    whose, chosen = (ServiceUser.objects.filter(pk=person.pk)
                     .annotate(whose=service_user_identity(), chosen=service_user_name())
                     .values_list("whose", "chosen").get())
    assert identity_of(preferred, full) == whose
    assert (preferred or full) == chosen


@pytest.mark.parametrize(("preferred", "full"), NAMES)
def test_a_users_identity_is_the_same_in_python_and_in_sql(preferred, full):
    user = UserFactory(preferred_name=preferred, full_name=full, email="worker@example.test")
    in_sql = (User.objects.filter(pk=user.pk).annotate(name=user_identity(""))
              .values_list("name", flat=True).get())
    assert (identity_of(preferred, full) or user.email) == in_sql


def test_no_one_is_no_one_in_both():
    """An event the system wrote has no actor: both give nothing, and the page then says
    "The system"."""
    access_event_record(actor=None, service_user=None, action="report.view", target="x",
                        basis="system")
    in_sql = (AccessEvent.objects.filter(target="x")
              .annotate(who=user_identity("actor__")).values_list("who", flat=True).get())
    assert in_sql is None
    assert identity_of(None, None) == ""
