#!/usr/bin/env python
"""Flag code that reaches sensitive data without asking the access policy.

- In views.py, api.py, tasks.py, *_views.py, and every module under a views/, api/, tasks/
  or templatetags/ package (plans/api/items.py, and deeper ones): `<SensitiveModel>.objects`
  and `get_object_or_404(`.
  Those modules must call selectors or the policy, which take `viewer=`.
- Anywhere outside consent/: importing django-guardian. Only the consent app reads or
  writes object permissions.
Exit status 1 if anything is found.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ["carecoord", "plans", "consent", "carers", "peersupport"]
SURFACE_MODULES = {"views.py", "api.py", "tasks.py"}
SURFACE_PACKAGES = {"views", "api", "tasks", "templatetags"}
SENSITIVE_MODELS = [
    "User", "ServiceUser", "Episode", "Allocation", "Invitation", "AccessEvent",
    "Carer", "CarerRelationship",
    "Plan", "PlanItem", "PlanVersion", "Signature", "Review", "Goal",
    "ConsentDecision", "SectionRule", "ItemConsent", "PlanItemUserObjectPermission",
    "Notification", "CarerNeeds", "WellbeingCheckIn", "AssessmentRequest", "CarerInsight",
    "Signposting", "RecoveryStory",
]
MODEL_QUERY = re.compile(r"\b(" + "|".join(SENSITIVE_MODELS) + r")\.objects\b")
SHORTCUT = re.compile(r"\bget_object_or_404\(|\bget_list_or_404\(")
GUARDIAN_IMPORT = re.compile(r"^\s*(from|import)\s+guardian\b", re.MULTILINE)


def surface_files() -> list[Path]:
    files = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            # Any folder between the app and the file: a module split into a package
            # (plans/api/) stays a surface however it is later subdivided.
            folders = path.relative_to(ROOT / app).parts[:-1]
            in_package = bool(SURFACE_PACKAGES.intersection(folders))
            if path.name in SURFACE_MODULES or path.name.endswith("_views.py") or in_package:
                files.append(path)
    return files


def main() -> int:
    problems = []
    for path in surface_files():
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if MODEL_QUERY.search(line) or SHORTCUT.search(line):
                problems.append(f"{path.relative_to(ROOT)}:{number}: query without the "
                                f"access policy: {line.strip()}")
    for app in APPS:
        if app == "consent":
            continue
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            if GUARDIAN_IMPORT.search(path.read_text()):
                problems.append(f"{path.relative_to(ROOT)}: imports django-guardian outside "
                                "consent/")
    for problem in problems:
        print(problem)
    if problems:
        print(f"lint_access: {len(problems)} problem(s).")
        return 1
    print("lint_access: views, API and tasks ask the access policy.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
