"""Fragments (carecoord/web/fragments.py, ADR 0030) write what Django's engine would have
written for the same template: the same escaping, localising, time zone and filters, so a
page whose repeated part moved to a fragment is the same HTML, byte for byte."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template import Context, Template
from django.utils import timezone
from django.utils.safestring import mark_safe

from carecoord.web.fragments import fragment_environment, render_fragment

# Each pair: the same template in Django's language and in a fragment's.
SAME = [
    ("{{ v }}", "{{ v }}"),
    ("{{ v|linebreaks }}", "{{ v|linebreaks }}"),
    ("{{ v|linebreaksbr }}", "{{ v|linebreaksbr }}"),
    ('{{ v|default:"Not written yet"|linebreaksbr }}',
     '{{ (v or "Not written yet")|linebreaksbr }}'),
    ('{{ v|date:"j F Y" }}', '{{ v|date("j F Y") }}'),
]
VALUES = [
    "Alex's plan <script>alert(1)</script> & \"quotes\"",
    "Two lines\nof text\n\nand a paragraph",
    mark_safe("<svg>already safe</svg>"),  # a fixed string, as a chart tag returns
    "",
    None,
    0,
    1234567,
    True,
    dt.date(2026, 3, 29),
    # 23:30 UTC on the last Sunday of March is 00:30 the next day in London (BST).
    dt.datetime(2026, 3, 29, 23, 30, tzinfo=dt.UTC),
    3.5,
]


# The date filter only for dates and datetimes (Django's writes "" for anything else).
CASES = [(django_source, fragment_source, value)
         for django_source, fragment_source in SAME for value in VALUES
         if "date" not in django_source or isinstance(value, dt.date)]


@pytest.mark.parametrize(("django_source", "fragment_source", "value"), CASES,
                         ids=[f"{d} {v!r:.30}" for d, _, v in CASES])
def test_a_fragment_writes_what_djangos_engine_writes(django_source, fragment_source, value):
    with timezone.override("Europe/London"):
        expected = Template(django_source).render(Context({"v": value}))
        written = render_fragment(fragment_environment().from_string(fragment_source), v=value)
    assert written == expected


def test_escaping_is_always_on_and_undefined_names_write_nothing():
    template = fragment_environment().from_string("<p>{{ text }}{{ missing }}</p>")
    assert render_fragment(template, text="<b>") == "<p>&lt;b&gt;</p>"


def test_a_datetime_is_written_in_the_current_time_zone():
    moment = dt.datetime(2026, 7, 1, 23, 30, tzinfo=dt.UTC)
    template = fragment_environment().from_string('{{ when|date("j F Y H:i") }} {{ when }}')
    with timezone.override("Europe/London"):
        assert render_fragment(template, when=moment).startswith("2 July 2026 00:30 ")
