"""Issue 12 point 8 in a browser: an address that does not exist, or a record someone may
not see, shows the product's own page (with a way home), never Django's technical page
that lists every URL pattern; signed in or not."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _assert_own_not_found_page(page) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    body = page.content()
    assert "Using the URLconf" not in body
    assert "Traceback" not in body
    expect(page.get_by_role("link", name="Go to the home page")).to_be_visible()


def test_an_unknown_address_shows_the_products_own_page(page, live_server, live_world):
    page.goto(f"{live_server.url}/no-such-page/")
    _assert_own_not_found_page(page)

    sign_in(page, live_server, live_world.carer_account.email, PASSWORD)
    page.goto(f"{live_server.url}/no-such-page/")
    _assert_own_not_found_page(page)
    # Someone else's record answers the same page: nothing says it exists.
    page.goto(f"{live_server.url}/service-users/{live_world.other_service_user.pk}/")
    _assert_own_not_found_page(page)
    page.get_by_role("link", name="Go to the home page").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")
