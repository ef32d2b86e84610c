"""The supply-chain checks the test command runs: bandit (fails on medium severity or
higher) and pip-audit (when the advisory database answers)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BANDIT = Path(sys.executable).parent / "bandit"


def bandit(target: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BANDIT), "-c", "pyproject.toml", "-r", str(target), "-ll", "-q"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )


def test_bandit_passes_on_the_code():
    result = bandit(".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_bandit_fails_on_a_planted_medium_finding(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text(
        "import yaml\n\n\ndef load(text):\n    return yaml.load(text)\n"  # B506, medium
    )
    result = bandit(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "B506" in result.stdout


def test_the_test_command_runs_bandit_and_pip_audit():
    script = (ROOT / "scripts" / "test.sh").read_text()
    lint_at = script.index("lint-imports --no-cache")
    pytest_at = script.index("-m pytest")
    bandit_at = script.index("bandit -c pyproject.toml -r . -ll")
    audit_at = script.index(".venv/bin/pip-audit")
    assert lint_at < bandit_at < pytest_at
    assert lint_at < audit_at < pytest_at
    assert "pip-audit: SKIPPED" in script
    # Both are installed with the dev extras.
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"bandit' in pyproject
    assert '"pip-audit' in pyproject
