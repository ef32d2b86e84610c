"""docs/SECURITY.md names, for each protection, the test that proves it: every test it
names must exist, so the page cannot claim a proof that was renamed or removed."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)?(::[\w-]+)?")


def named_tests(text: str) -> list[tuple[str, str | None]]:
    """(file, test name or None) for each reference; `::name` belongs to the last file."""
    current, names = None, []
    for match in REFERENCE.finditer(text):
        path, name = match.group(1), match.group(2)
        if path:
            current = path
        if current and (path or name):
            names.append((current, name[2:] if name else None))
    return names


def missing_tests(text: str) -> list[str]:
    missing = []
    for path, name in named_tests(text):
        source = ROOT / path
        if not source.exists():
            missing.append(path)
        elif name and not re.search(rf"def {re.escape(name)}\b", source.read_text()):
            missing.append(f"{path}::{name}")
    return missing


def test_every_test_the_security_page_names_exists():
    text = (ROOT / "docs" / "SECURITY.md").read_text()
    assert len(named_tests(text)) > 100  # the page names its proofs
    assert missing_tests(text) == []


def test_a_renamed_or_removed_test_is_caught():
    planted = ("`tests/test_security_doc.py::test_a_renamed_or_removed_test_is_caught`, "
               "`::test_that_was_renamed`, `tests/no_such_file.py`")
    assert missing_tests(planted) == [
        "tests/test_security_doc.py::test_that_was_renamed", "tests/no_such_file.py"]
