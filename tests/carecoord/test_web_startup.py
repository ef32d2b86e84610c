"""A web process puts what it made while starting out of the garbage collector's reach
(carecoord/web/startup.py), so a full collection does not walk it during a request."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_wsgi_application_freezes_what_starting_made():
    script = ("import gc; assert gc.get_freeze_count() == 0; import carecoord.wsgi; "
              "print(gc.get_freeze_count())")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "carecoord.settings"}
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=True)
    # Django, the project's modules and their models: far more than a bare interpreter.
    assert int(done.stdout.strip()) > 50_000
