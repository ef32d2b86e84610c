"""The architecture guards bite: each bypass below is planted in a copy of the code and
must be caught, for the right reason, by the guard named beside it: import-linter's
contracts in pyproject.toml or ruff's banned-api rule, run as plain subprocesses like
scripts/test.sh runs them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PACKAGES = ("carecoord", "plans", "consent", "carers", "peersupport")

CONTRACTS, BANNED_API = "import-linter contracts", "ruff banned-api (TID251)"

# name: (file to plant in, code appended to it, the guard that must catch it)
BYPASSES = {
    "guardian shortcuts in a selector": (
        "carers/selectors.py", "from guardian.shortcuts import get_objects_for_user\n",
        CONTRACTS),
    "guardian imported under another name in a view": (
        "plans/views.py", "from guardian import shortcuts as permission_tools\n", CONTRACTS),
    "guardian's backend asked directly": (
        "carecoord/records/views.py", "from guardian.backends import ObjectPermissionBackend\n",
        BANNED_API),
    "the grant table read from a view": (
        "plans/views.py", "from consent.grants import PlanItemUserObjectPermission\n",
        CONTRACTS),
    "the grant table read from a new module": (
        "plans/sharing_report.py", "import consent.grants as grants_table\n", CONTRACTS),
    "get_object_or_404 in a view": (
        "plans/views.py", "from django.shortcuts import get_object_or_404\n", BANNED_API),
    "raw SQL in an API view": (
        "consent/api.py", "from django.db import connection\n", BANNED_API),
    "raw SQL through the module": (
        "carers/views.py",
        "from django import db\n\n\ndef _rows():\n    return db.connection.cursor()\n",
        BANNED_API),
    "a model asking the policy": (
        "plans/models.py", "from consent import policy as _policy\n", CONTRACTS),
    "a service below the policy asking it": (
        "carers/services.py", "from consent.policy import can_view_record\n", CONTRACTS),
    "a selector importing a page": (
        "plans/selectors.py", "import plans.views\n", CONTRACTS),
}


def _run(tree: Path, guard: str) -> tuple[int, str]:
    """Run one guard as scripts/test.sh does; (exit status, what it printed)."""
    if guard == CONTRACTS:
        command = [str(BIN / "lint-imports"), "--no-cache"]
        marker = "BROKEN"
    else:
        # Only the banned-api rule: an appended import also breaks import order (E402,
        # I001), which must not count as catching the bypass.
        command = [str(BIN / "ruff"), "check", "--no-cache", "--select", "TID251", "."]
        marker = "TID251"
    done = subprocess.run(command, cwd=tree, capture_output=True, text=True, timeout=120,
                          check=False)
    output = done.stdout + done.stderr
    return (done.returncode if marker in output or done.returncode == 0 else -1), output


@pytest.fixture(scope="module")
def clean_tree(tmp_path_factory) -> Path:
    tree = tmp_path_factory.mktemp("tree")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tree / package,
                        ignore=shutil.ignore_patterns("__pycache__", "migrations"))
    shutil.copy(ROOT / "pyproject.toml", tree)
    return tree


@pytest.mark.parametrize("guard", [CONTRACTS, BANNED_API])
def test_the_guards_pass_on_the_code_as_it_is(clean_tree, guard):
    returncode, output = _run(clean_tree, guard)
    assert returncode == 0, f"{guard} fails on the unchanged code:\n{output}"


@pytest.mark.parametrize("bypass", BYPASSES, ids=list(BYPASSES))
def test_every_planted_bypass_is_caught(clean_tree, tmp_path, bypass):
    tree = tmp_path / "tree"
    shutil.copytree(clean_tree, tree)
    relative, code, guard = BYPASSES[bypass]
    target = tree / relative
    existing = target.read_text() if target.exists() else '"""A new module."""\n'
    target.write_text(existing.rstrip("\n") + "\n\n" + code)
    returncode, output = _run(tree, guard)
    assert returncode > 0, f"{guard} did not catch: {bypass}\n{output}"
