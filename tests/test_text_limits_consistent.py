"""The same maximum length on the page and in the API for the same words (ADR 0019,
carecoord/web/text_limits.py): a person's words that the page takes must not be refused
by the API, nor the other way round."""

from __future__ import annotations

import pytest

from carers.api import ReviewViewsInput
from carers.forms import CarerReviewViewsForm
from consent.api import DecisionInput
from consent.forms import ConsentChoicesForm
from plans.api.goals import GoalProgressApi
from plans.api.items import ItemApi, PlanItemCreateApi
from plans.api.reviews import PlanReviewsApi
from plans.api.versions import VersionSignatureApi
from plans.forms import DeclineForm, ItemForm, ProgressForm, ReviewForm


def _api(serializer_class, name: str) -> int | None:
    return serializer_class().fields[name].max_length


def _form(form_class, name: str) -> int | None:
    return form_class.base_fields[name].max_length


@pytest.mark.parametrize(("api", "form"), [
    ((PlanItemCreateApi.Input, "title"), (ItemForm, "title")),
    ((PlanItemCreateApi.Input, "body"), (ItemForm, "body")),
    ((ItemApi.Input, "title"), (ItemForm, "title")),
    ((ItemApi.Input, "body"), (ItemForm, "body")),
    ((GoalProgressApi.Input, "note"), (ProgressForm, "note")),
    ((PlanReviewsApi.Input, "attendees"), (ReviewForm, "attendees")),
    ((PlanReviewsApi.Input, "what_changed"), (ReviewForm, "what_changed")),
    ((VersionSignatureApi.Input, "reason"), (DeclineForm, "reason")),
    ((DecisionInput, "note"), (ConsentChoicesForm, "note")),
    ((DecisionInput, "basis"), (ConsentChoicesForm, "basis")),
    ((ReviewViewsInput, "views"), (CarerReviewViewsForm, "views")),
])
def test_the_page_and_the_api_take_the_same_length(api, form):
    api_limit, form_limit = _api(*api), _form(*form)
    assert form_limit is not None
    assert api_limit == form_limit, f"{api} takes {api_limit}, {form} takes {form_limit}"
