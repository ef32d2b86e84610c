"""Every page a demo user reaches works on a phone and passes axe (issue 12, point 6 and
its tests).

The demo data is seeded (`seed_demo`), then for someone not signed in (the sign-in and
password-reset pages) and for each demo account a fresh browser at 375 × 812 signs in
through the real forms and follows, breadth first, every same-site link
it is shown (GET only). Each page must:

- answer below 400 and not be Django's technical error page;
- not scroll sideways: `document.documentElement.scrollWidth <= 375`;
- have no serious or critical WCAG 2.2 AA violation by axe-core (tests/browser/axe.py).

Pages are counted once per account and URL pattern (`/plans/1/` and `/plans/2/` are one
page), at most MAX_PAGES_PER_ACCOUNT each, so the test stays within a few minutes. Each
URL pattern is also checked by axe once at 1280 px wide (the first account to reach it,
the same document resized, so no second visit).
All failures are collected and reported together in one assertion.

PHONE_ACCOUNTS=<emails, comma-separated> crawls only those accounts; PHONE_SHOW_ROUTES=1
prints the URL patterns checked.

KNOWN_ELSEWHERE names the URL patterns whose failures come from templates other areas
own (consent, plans, forms, reports, ...). They still fail the test — the report labels
them with their owner — unless PHONE_IGNORE_KNOWN=1 is set, which leaves them out so a
change elsewhere can be checked on its own. Empty the list as those areas are fixed: the
test says when an entry no longer fails.
"""

from __future__ import annotations

import io
import os
import re
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import urldefrag, urlsplit

import pytest
from django.core.management import call_command
from django.urls import Resolver404, resolve
from playwright.sync_api import expect

from tests.browser.axe import axe_source, axe_violations
from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}
MAX_PAGES_PER_ACCOUNT = 60

# Not pages to crawl: signing out, files (CSV, PDF, downloads), the Django admin (its own
# look, not the NHS.UK design system), the API and its docs, static files.
SKIP_PREFIXES = ("/admin/", "/api/", "/static/", "/assets/", "/media/", "/sign-out/")
SKIP_SUFFIXES = ("/csv/", "/pdf/", "/download/", ".csv", ".pdf", ".json", ".zip", ".xml")

# URL pattern -> the area that owns its template and still has to fix what fails there.
KNOWN_ELSEWHERE: dict[str, str] = {}

# Finds what sticks out past the right edge: the innermost elements wider than the
# viewport, as short CSS-ish descriptions, so a failure says what to fix.
OVERFLOWING_JS = """
(width) => {
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.right <= width + 0.5 || r.width === 0) continue;
    const inner = Array.from(el.children).some(
      (c) => c.getBoundingClientRect().right > width + 0.5);
    if (inner) continue;
    let d = el.tagName.toLowerCase();
    if (el.id) d += '#' + el.id;
    if (el.classList.length) d += '.' + Array.from(el.classList).slice(0, 2).join('.');
    let p = el.parentElement, path = [];
    while (p && p !== document.body && path.length < 3) {
      let pd = p.tagName.toLowerCase();
      if (p.classList.length) pd += '.' + p.classList[0];
      path.unshift(pd); p = p.parentElement;
    }
    out.push(path.concat(d).join(' > ') + ' (right edge ' + Math.round(r.right) + 'px)');
    if (out.length >= 5) break;
  }
  return out;
}
"""

TECHNICAL_PAGE_JS = """
() => !!document.querySelector('meta[name="robots"][content="NONE,NOARCHIVE"]')
      || document.body.innerText.includes('DEBUG = True')
"""


@dataclass
class Failure:
    account: str
    route: str
    url: str
    problems: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        owner = KNOWN_ELSEWHERE.get(self.route)
        label = f" [known: {owner}]" if owner else ""
        lines = [f"{self.account} {self.url} (pattern {self.route!r}){label}"]
        lines += [f"    - {problem}" for problem in self.problems]
        return "\n".join(lines)


def route_of(path: str) -> str | None:
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match.route or match.view_name


def crawlable(url: str, origin: str) -> str | None:
    """The URL to visit (no fragment), or None if it is not a page to crawl."""
    url, _ = urldefrag(url)
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}" != origin:
        return None
    path = parts.path or "/"
    if path.startswith(SKIP_PREFIXES) or path.endswith(SKIP_SUFFIXES):
        return None
    return url


@dataclass(frozen=True)
class Demo:
    accounts: list[str]
    password: str


def accounts_printed(printed: str) -> Demo:
    """Every demo account `seed_demo` prints (whatever adds to the demo adds to it), or
    those named in PHONE_ACCOUNTS=a@x,b@y (quicker, while fixing a page)."""
    password = re.search(r"password for every demo account: (\S+)", printed).group(1)
    emails = list(dict.fromkeys(re.findall(r"^\s+(\S+@\S+)\s", printed, re.MULTILINE)))
    chosen = [e.strip() for e in os.environ.get("PHONE_ACCOUNTS", "").split(",") if e.strip()]
    if chosen:
        emails = [email for email in emails if email in chosen]
    return Demo(accounts=emails, password=password)


@pytest.fixture
def demo(transactional_db, settings) -> Demo:
    # seed_demo runs only for a laptop demo, and the demo staff's published authenticator
    # key is accepted only then, so DEBUG stays on while the live server answers.
    settings.DEBUG = True
    printed = io.StringIO()
    call_command("seed_demo", stdout=printed)
    return accounts_printed(printed.getvalue())


def check_page(page, url: str) -> tuple[list[str], str]:
    """Visit `url` at the phone width; the problems found and the page's final URL."""
    response = page.goto(url, wait_until="load")
    if response is None:
        return ["no response"], page.url
    problems = [f"answered {response.status}"] if response.status >= 400 else []
    return problems + phone_problems(page), page.url


def phone_problems(page) -> list[str]:
    """What is wrong with the page as shown now, at the phone width."""
    if page.evaluate(TECHNICAL_PAGE_JS):
        return ["Django's technical error page"]
    problems = []
    scroll_width = page.evaluate("() => document.documentElement.scrollWidth")
    if scroll_width > PHONE["width"]:
        sticking_out = page.evaluate(OVERFLOWING_JS, PHONE["width"])
        problems.append(
            f"scrolls sideways at {PHONE['width']} px (scrollWidth {scroll_width}): "
            + "; ".join(sticking_out)
        )
    problems += [f"{violation} (at {PHONE['width']} px)" for violation in axe_violations(page)]
    return problems


def page_links(page, origin: str) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "(as) => as.map((a) => a.href)")
    return [url for href in hrefs if (url := crawlable(href, origin))]


def crawl(browser, live_server, email: str | None, password: str, desktop_done: set[str]):
    """Sign in as `email` (None: someone not signed in) at phone width and check every
    page they reach."""
    origin = live_server.url
    context = browser.new_context(viewport=PHONE)
    # axe is in every document from its start (DevTools injects it, so the CSP allows it),
    # which saves evaluating it again on each page.
    context.add_init_script(script=axe_source())
    page = context.new_page()
    failures: list[Failure] = []
    visited_routes: dict[str, str] = {}
    try:
        if email is None:
            start = f"{origin}/sign-in/"
        else:
            response = sign_in(page, live_server, email, password)
            assert response is not None, f"{email} could not sign in"
            assert response.ok, f"{email} could not sign in"
            assert "/sign-in/" not in page.url, f"{email} is still at {page.url}"
            start = f"{origin}/"
        account = email or "(not signed in)"
        queue = deque([start])
        seen_routes: set[str] = set()
        while queue and len(visited_routes) < MAX_PAGES_PER_ACCOUNT:
            url = queue.popleft()
            route = route_of(urlsplit(url).path)
            if route is None or route in seen_routes:
                continue
            seen_routes.add(route)
            problems, final_url = check_page(page, url)
            visited_routes[route] = url
            if route not in desktop_done:
                # The wide pass, axe once per URL pattern across all accounts: the same
                # document, resized, so it costs no second visit.
                desktop_done.add(route)
                page.set_viewport_size(DESKTOP)
                problems += [f"{v} (at {DESKTOP['width']} px)" for v in axe_violations(page)]
                page.set_viewport_size(PHONE)
            if problems:
                failures.append(Failure(account, route, url, problems))
            if urlsplit(final_url).path != urlsplit(url).path:
                continue  # redirected elsewhere: that page is reached by its own link
            queue.extend(page_links(page, origin))
    finally:
        context.close()
    return visited_routes, failures


def test_every_page_a_demo_user_reaches_works_on_a_phone_and_passes_axe(
    browser, live_server, demo
):
    ignore_known = os.environ.get("PHONE_IGNORE_KNOWN") == "1"
    desktop_done: set[str] = set()
    failures: list[Failure] = []
    reached: dict[str, int] = {}
    failing_routes: set[str] = set()
    if not os.environ.get("PHONE_ACCOUNTS"):  # the printed logins were read right
        from carecoord.demo.people import DEMO_LOGINS

        assert {email for email, _ in DEMO_LOGINS} <= set(demo.accounts), demo
    for email in [None, *demo.accounts]:
        visited, found = crawl(browser, live_server, email, demo.password, desktop_done)
        reached[email or "(not signed in)"] = len(visited)
        failing_routes |= {failure.route for failure in found}
        failures += [f for f in found if not (ignore_known and f.route in KNOWN_ELSEWHERE)]

    # The crawl is not vacuous: everyone reaches their home page and more.
    assert all(count >= 2 for count in reached.values()), reached
    stale = sorted(set(KNOWN_ELSEWHERE) - failing_routes)
    report = "\n".join(str(failure) for failure in failures)
    if stale:
        report += "\nKNOWN_ELSEWHERE entries that no longer fail (remove them): " + ", ".join(stale)
    print(f"pages checked per account: {reached}")
    if os.environ.get("PHONE_SHOW_ROUTES") == "1":
        print(*sorted(desktop_done), sep="\n")
    problems = len(failures) + len(stale)
    assert problems == 0, f"{len(failures)} page(s) fail:\n{report}"


# --- The checks can fail ------------------------------------------------------------------


@pytest.fixture
def phone_sign_in_page(browser, live_server, transactional_db):
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    response = page.goto(f"{live_server.url}/sign-in/")
    # axe runs under the page's own Content-Security-Policy, not around it.
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert phone_problems(page) == []
    yield page
    context.close()


def test_axe_reports_serious_and_critical_violations(phone_sign_in_page):
    page = phone_sign_in_page
    page.evaluate("""() => {
        const main = document.querySelector('main');
        main.insertAdjacentHTML('beforeend',
            '<img src="/assets/images/favicon.svg"><button type="button"></button>');
    }""")

    rules = {problem.split()[2].rstrip(":") for problem in phone_problems(page)}

    assert {"image-alt", "button-name"} <= rules


def test_a_page_wider_than_the_phone_is_reported_with_what_sticks_out(phone_sign_in_page):
    page = phone_sign_in_page
    page.evaluate("""() => {
        document.querySelector('main').insertAdjacentHTML('beforeend',
            '<p id="too-wide" class="nhsuk-body">Too wide</p>');
        document.getElementById('too-wide').style.minWidth = '600px';
    }""")

    problems = phone_problems(page)

    assert len(problems) == 1
    assert problems[0].startswith("scrolls sideways at 375 px")
    assert "p#too-wide.nhsuk-body" in problems[0]


def test_the_crawl_skips_sign_out_files_admin_and_other_sites():
    origin = "http://localhost:8000"
    assert crawlable(f"{origin}/plans/1/#items", origin) == f"{origin}/plans/1/"
    assert crawlable(f"{origin}/teams/1/reports/?page=2", origin) == (
        f"{origin}/teams/1/reports/?page=2")
    for skipped in ("/sign-out/", "/admin/", "/api/v1/plans/", "/files/3/download/",
                    "/teams/1/reports/access/csv/", "/teams/1/reports/access/pdf/"):
        assert crawlable(f"{origin}{skipped}", origin) is None, skipped
    assert crawlable("https://www.nhs.uk/", origin) is None
    assert route_of("/plans/1/") == route_of("/plans/2/") == "plans/<int:plan_id>/"


WIDE_TABLE_JS = """() => {
    const row = (tag, kind) => '<tr class="nhsuk-table__row">' + Array.from({length: 8},
        (_, i) => `<${tag} class="nhsuk-table__${kind}">Column-${i}-words</${tag}>`
    ).join('') + '</tr>';
    document.querySelector('main').insertAdjacentHTML('beforeend',
        '<table class="nhsuk-table" id="wide">'
        + '<caption class="nhsuk-table__caption">Wide</caption>'
        + `<thead class="nhsuk-table__head">${row('th', 'header')}</thead>`
        + `<tbody class="nhsuk-table__body">${row('td', 'cell')}</tbody></table>`);
}"""


def test_a_wide_table_scrolls_in_its_own_box_and_can_be_scrolled_from_the_keyboard(
    phone_sign_in_page, live_server
):
    page = phone_sign_in_page
    page.evaluate(WIDE_TABLE_JS)
    # The enhancement runs on the tables there when a page loads: run it again (a new
    # module URL, from our own origin, as the CSP allows).
    page.add_script_tag(url=f"{live_server.url}/static/js/scrolling-tables.js?again",
                        type="module")
    table = page.locator("#wide")

    expect(table).to_have_attribute("tabindex", "0")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    assert table.evaluate("(t) => t.scrollWidth > t.clientWidth")
    assert phone_problems(page) == []
    table.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => document.getElementById('wide').scrollLeft > 0")

    page.set_viewport_size(DESKTOP)  # it fits: no extra Tab stop

    expect(table).not_to_have_attribute("tabindex", "0")


def test_the_sign_in_code_step_works_on_a_phone(browser, live_server, live_world):
    """The crawl signs staff in through this page without checking it: check it here."""
    from tests.conftest import totp_device_for
    from tests.factories import PASSWORD

    totp_device_for(live_world.coordinator)
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/sign-in/")
        page.get_by_label("Email address").fill(live_world.coordinator.email)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Enter your security code")).to_be_visible()

        assert phone_problems(page) == []
    finally:
        context.close()
