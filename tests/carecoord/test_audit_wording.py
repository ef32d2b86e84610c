"""One table of plain words for the audit trail (carecoord/audit/wording.py, ADR 0020):
every action code and every basis the code base writes has a sentence there. The codes are
found by reading the source, so a new `access_event_record(action="x.y")` without words
fails here."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from carecoord.audit import wording
from carers.models import CarerSpaceBasis
from consent.models import DecidedAs
from consent.policy import Basis
from plans.models import GoalAgreement, RequiredSigner

ROOT = Path(__file__).resolve().parents[2]
SOURCE_ROOTS = ["carecoord", "plans", "consent", "carers", "peersupport"]
# Calls that write an access event, or name the surface that a read event is written for.
AUDIT_CALLS = {"access_event_record", "access_events_record", "_audit", "audit_read", "_move"}
CODE = re.compile(r"[a-z_]+(\.[a-z_]+)+")


def _strings(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _strings(node.body) + _strings(node.orelse)
    return []


def _pattern(node: ast.JoinedStr) -> re.Pattern:
    """f"team.{place}_add" → team\\..+_add"""
    parts = [re.escape(v.value) if isinstance(v, ast.Constant) else ".+" for v in node.values]
    return re.compile("".join(parts))


def _scan() -> tuple[set[str], list[tuple[str, re.Pattern]], set[str], set[str]]:
    actions: set[str] = set()
    patterns: list[tuple[str, re.Pattern]] = []
    surfaces: set[str] = set()
    bases: set[str] = set()
    for root in SOURCE_ROOTS:
        for path in (ROOT / root).rglob("*.py"):
            if "migrations" in path.parts or "demo" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                # SURFACE = "api.fhir" (a module), surface = "api.carers" (an API class)
                if isinstance(node, ast.Assign) and any(
                        getattr(t, "id", "") in {"SURFACE", "surface"} for t in node.targets):
                    surfaces.update(_strings(node.value))
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                for keyword in node.keywords:
                    if keyword.arg == "surface":
                        surfaces.update(_strings(keyword.value))
                    if name not in AUDIT_CALLS:
                        continue
                    if keyword.arg == "action":
                        actions.update(_strings(keyword.value))
                        if isinstance(keyword.value, ast.JoinedStr):
                            patterns.append((f"{path.name}: {ast.unparse(keyword.value)}",
                                             _pattern(keyword.value)))
                    if keyword.arg == "basis":
                        bases.update(_strings(keyword.value))
                if name == "_audit":
                    # plans: _audit(actor, plan, action, target, basis)
                    for arg in node.args:
                        actions.update(s for s in _strings(arg) if CODE.fullmatch(s))
                    if len(node.args) >= 5:
                        bases.update(_strings(node.args[4]))
    return actions, patterns, surfaces, bases


ACTIONS, PATTERNS, SURFACES, SOURCE_BASES = _scan()


def test_the_scan_finds_the_codes_it_should():
    # If the scan found nothing it would prove nothing: it must see the well-known ones.
    assert {"consent.share", "plan_version.sign", "record_access.grant"} <= ACTIONS
    assert {"service_user_record", "plan_detail", "api.fhir", "api.carers"} <= SURFACES
    assert "team manager" in SOURCE_BASES
    assert any("report." in label for label, _ in PATTERNS)


@pytest.mark.parametrize("code", sorted(ACTIONS | {f"{s}.view" for s in SURFACES}))
def test_every_action_code_has_plain_words(code):
    words = wording.ACTIONS.get(code)
    assert words is not None, f"No plain words for the action {code!r} in audit/wording.py"
    assert words.done[0].isupper()
    assert "_" not in words.done
    assert "." not in words.done
    assert words.to_you
    assert "_" not in words.to_you
    assert "{n}" in words.many or not words.many


@pytest.mark.parametrize(("label", "pattern"), PATTERNS, ids=[label for label, _ in PATTERNS])
def test_every_built_action_code_has_plain_words(label, pattern):
    assert [code for code in wording.ACTIONS if pattern.fullmatch(code)], (
        f"No plain words for any action {label} can write")


BASES = sorted(
    {str(b) for b in Basis} | {str(b) for b in CarerSpaceBasis}
    | {label for _, label in DecidedAs.choices}
    | {value for value, _ in RequiredSigner.Role.choices}
    | {value for value, _ in GoalAgreement.Party.choices}
    | {b for b in SOURCE_BASES if b}
)


@pytest.mark.parametrize("basis", BASES)
def test_every_basis_has_plain_words(basis):
    words = wording.BASES.get(basis)
    assert words is not None, f"No plain words for the basis {basis!r}"
    assert words.staff[0].isupper()
    assert words.to_you[0].isupper()
    assert "_" not in words.staff + words.to_you


def test_an_unknown_code_never_reads_as_a_code():
    words = wording.action_words("garden_shed.view")
    assert words.done == "Looked at the garden shed"
    assert "." not in words.to_you
    assert "_" not in words.to_you


def test_grouped_words_for_the_service_user():
    assert wording.action_words("carer_item.view").for_service_user(7) == (
        "looked at 7 shared items")
    assert wording.action_words("plan_detail.view").for_service_user(3) == (
        "read your plan 3 times")
    assert wording.action_words("plan_detail.view").for_service_user(1) == "read your plan"


def test_bases_read_as_sentences():
    assert wording.basis_words(str(Basis.CARER_CONSENT), to_service_user=True) == (
        "You shared it with them")
    assert wording.basis_words("allocated care coordinator; via Phone app") == (
        "They are the allocated care coordinator, using the app or API token “Phone app”")
    assert wording.basis_words("user:12 Sam Coordinator") == "Sam Coordinator"
    assert wording.basis_words("Alex Kim given access as care coordinator",
                               to_service_user=True) == "Alex Kim was made your care coordinator"
    assert wording.basis_words("") == "Not recorded"
