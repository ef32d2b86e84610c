"""Whether a carer can see an item, in the consent pages' words (consent_tags.cell_words,
which replaced an included template for speed, issue 15): every case, and names escaped."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from consent.templatetags.consent_tags import cell_words


def _cell(*, shared=False, until=None, by_rule=False, ended_on=None, own_decision=None,
          rule_in_effect=False, name="Linda"):
    return SimpleNamespace(
        relationship=SimpleNamespace(carer=SimpleNamespace(name=name)), shared=shared,
        until=until, by_rule=by_rule, ended_on=ended_on, own_decision=own_decision,
        rule=SimpleNamespace(in_effect=rule_in_effect))


ALEX = SimpleNamespace(name="Alex")


@pytest.mark.parametrize(("cell", "is_own", "words"), [
    (_cell(shared=True), True, "<strong>Linda can see this</strong>."),
    (_cell(shared=True, until=dt.date(2027, 3, 1)), True,
     "<strong>Linda can see this</strong> until 1 March 2027."),
    (_cell(shared=True, by_rule=True), True,
     "<strong>Linda can see this</strong>, because you shared the whole section."),
    (_cell(shared=True, by_rule=True, until=dt.date(2027, 3, 1)), False,
     "<strong>Linda can see this</strong> until 1 March 2027, because Alex shared the "
     "whole section."),
    (_cell(), True, "Linda cannot see this."),
    (_cell(ended_on=dt.date(2026, 11, 30)), True,
     "Linda cannot see this: sharing ended after 30 November 2026."),
    (_cell(own_decision=object(), rule_in_effect=True), True,
     "Linda cannot see this, although the rest of the section is shared with them."),
    (_cell(own_decision=object(), rule_in_effect=False), True, "Linda cannot see this."),
])
def test_each_case_in_words(cell, is_own, words):
    assert cell_words(cell, is_own, ALEX) == words


def test_names_are_escaped():
    words = cell_words(_cell(shared=True, by_rule=True, name="<b>Lin</b>"), False,
                       SimpleNamespace(name="A & B"))
    assert "&lt;b&gt;Lin&lt;/b&gt;" in words
    assert "A &amp; B" in words
    assert "<b>" not in words
