"""Whether a carer can see an item, and a carer's rule for a whole section, in the consent
pages' words (consent_tags.cell_words and rule_words, which replaced included templates for
speed, issue 15): every case, and names escaped."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from consent.templatetags.consent_tags import cell_words, rule_words


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


def _rule(*, in_effect=False, ended=False, expires_on=None, decided_at=None, decided=True):
    decision = (SimpleNamespace(expires_on=expires_on, decided_at=decided_at)
                if decided else None)
    return SimpleNamespace(in_effect=in_effect, ended=ended, decision=decision)


@pytest.mark.parametrize(("rule", "words"), [
    (_rule(in_effect=True),
     "<strong>Shares the whole section, including anything added later</strong>."),
    (_rule(in_effect=True, expires_on=dt.date(2027, 3, 1)),
     "<strong>Shares the whole section, including anything added later</strong>, "
     "until 1 March 2027."),
    (_rule(ended=True, expires_on=dt.date(2026, 11, 30)),
     "The whole section was shared until 30 November 2026. That has ended."),
    # When sharing stopped, as a day where the service user is (London, summer time):
    # 23:30 UTC on 30 June is 1 July there.
    (_rule(decided_at=dt.datetime(2026, 6, 30, 23, 30, tzinfo=dt.UTC)),
     "The whole section is not shared: sharing it stopped on 1 July 2026."),
    (_rule(decided=False), "The whole section is not shared."),
])
def test_each_rule_in_words(rule, words):
    assert rule_words(rule) == words
