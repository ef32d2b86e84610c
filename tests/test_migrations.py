"""The models and the migrations agree: moving models between sub-packages (ADR 0007)
left every table as it was, so a database built by the migrations of earlier code needs
no migration to run this code."""

from __future__ import annotations

from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command


@pytest.mark.django_db
def test_no_model_change_is_missing_a_migration():
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    assert "No changes detected" in out.getvalue()


@pytest.mark.parametrize(("model", "table"), [
    ("User", "carecoord_user"), ("ServiceUser", "carecoord_serviceuser"),
    ("AccessEvent", "carecoord_accessevent"), ("Notification", "carecoord_notification"),
    ("Export", "carecoord_export"), ("Allocation", "carecoord_allocation"),
])
def test_moved_models_keep_their_app_and_table(model, table):
    found = apps.get_model("carecoord", model)
    assert found._meta.db_table == table
