"""carecoord.reporting sits on top: nothing below it imports it, not even inside a
function. Only the project's wiring reaches in (docs/adr/0006-reporting-on-top.md)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BELOW = ["carecoord", "plans", "carers", "consent", "peersupport"]
WIRING = {
    "carecoord/urls.py",  # the report pages
    "carecoord/apps.py",  # registers the report PDF renderer in every process
    "carecoord/management/commands/seed_demo.py",  # the demo that triggers every prompt
}


def _imports_reporting(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
            if node.module == "carecoord":
                names += [f"carecoord.{alias.name}" for alias in node.names]
        else:
            continue
        if any(name == "carecoord.reporting" or name.startswith("carecoord.reporting.")
               for name in names):
            lines.append(node.lineno)
    return lines


def test_nothing_below_reporting_imports_it():
    found = []
    for app in BELOW:
        for path in (ROOT / app).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if (relative.startswith("carecoord/reporting/") or "migrations" in path.parts
                    or relative in WIRING):
                continue
            found += [f"{relative}:{line}"
                      for line in _imports_reporting(ast.parse(path.read_text()))]
    assert found == []


def test_the_check_sees_every_form_of_import():
    source = ("import carecoord.reporting.stuck\n"
              "from carecoord.reporting import selectors\n"
              "from carecoord import reporting\n"
              "def late():\n    from carecoord.reporting.reports import registry\n"
              "from carecoord import selectors\nimport carecoord.reportingx\n")
    assert _imports_reporting(ast.parse(source)) == [1, 2, 3, 5]
