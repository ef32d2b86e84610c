"""The load test (`make load`, scripts/load.sh): a trust's working day, compressed.

Each simulated person signs in as a real account of the scale data (generate_scale_data:
the password and the staff authenticator key are published there on purpose, and the
command refuses to run in a deployment) and then does what their role does, with think
times between pages:

- coordinators (most users): look at their caseload, open a person's record and care plan,
  and now and then change the words of an item in the plan;
- service users: open their plan and change their own words;
- carers: open the page of the person they care for (what was shared with them);
- managers: open the team page, the access-events report, and download its CSV.

Sign-in is measured on its own ("sign in …" rows): it runs a deliberately slow password
hash, so scripts/load.sh reports the p95 of the pages people use once signed in beside it.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import itertools
import json
import os
import random
import re
import struct
import time

import gevent
from locust import HttpUser, between, events, task

PASSWORD = os.environ.get("LOAD_PASSWORD", "scale-data-not-for-production")
# The scale data's staff authenticator key, hex: the demo's published key, accepted only
# while DEBUG or DEMO is on (carecoord/demo/scale.py, carecoord/twofa/services.py).
TOTP_KEY_HEX = os.environ.get("LOAD_TOTP_KEY", "3132333435363738393031323334353637383930")
# The scale data's accounts by kind (scripts/_load.sh writes them): each simulated person
# takes the next account of their kind, so no two sign in as the same account (a code is
# accepted once).
with open(os.environ.get("LOAD_ACCOUNTS", "var/bench/trust/load/accounts.json")) as file:
    ACCOUNTS: dict[str, list[str]] = json.load(file)
_next_account = {kind: itertools.count() for kind in ACCOUNTS}

# Every answer's time once everyone has arrived and signed in (the steady state: the run
# stops LOAD_SECONDS after that), signing in apart (a deliberately slow password hash, done
# once a day by a real person: 200 people made to arrive within 20 seconds queue behind
# each other's hashes for longer than that, which no trust's morning does), for the p95
# scripts/_load.sh reports. Errors count from the first request.
LOAD_SECONDS = float(os.environ.get("LOAD_SECONDS", "60"))
_times: list[float] = []
_sign_in_times: list[float] = []
_errors: list[str] = []
_environment = None
_people = 0  # how many were started (known when the last has arrived)
_signed_in = 0
_started_at = time.monotonic()
_steady_since: float | None = None
# The measured time in slices, each slice's p95 reported too: whether the answers get
# slower or faster as the run goes on (a queue building, or one draining).
SLICE_SECONDS = 10
_slices: dict[int, list[float]] = {}


@events.init.add_listener
def _keep_environment(environment, **kwargs) -> None:
    global _environment
    _environment = environment


def _steady_if_everyone_is_in() -> None:
    global _steady_since
    if _steady_since is None and _people and _signed_in >= _people:
        _steady_since = time.monotonic()
        gevent.spawn_later(LOAD_SECONDS, _environment.runner.quit)


@events.spawning_complete.add_listener
def _arrived(user_count, **kwargs) -> None:
    global _people
    _people = user_count
    _steady_if_everyone_is_in()


def _has_signed_in() -> None:
    global _signed_in
    _signed_in += 1
    _steady_if_everyone_is_in()


@events.request.add_listener
def _record(request_type, name, response_time, response_length, exception=None,
            **kwargs) -> None:
    if name.startswith("sign in"):
        _sign_in_times.append(response_time)
    elif _steady_since is not None:
        _times.append(response_time)
        _slices.setdefault(int((time.monotonic() - _steady_since) // SLICE_SECONDS),
                           []).append(response_time)
    if exception is not None:
        _errors.append(f"{request_type} {name}: {exception}")


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


@events.quitting.add_listener
def _write_result(environment, **kwargs) -> None:
    result = {
        "requests": len(_times) + len(_sign_in_times), "sign_in_requests": len(_sign_in_times),
        "steady_requests": len(_times),
        "errors": len(_errors), "first_errors": _errors[:20],
        "p95_ms": _percentile(_times, 0.95), "median_ms": _percentile(_times, 0.5),
        "sign_in_p95_ms": _percentile(_sign_in_times, 0.95),
        "everyone_signed_in_after_s": (None if _steady_since is None
                                       else round(_steady_since - _started_at)),
        "measured_s": (0 if _steady_since is None
                       else round(time.monotonic() - _steady_since)),
        "by_slice": [{"from_s": index * SLICE_SECONDS, "to_s": (index + 1) * SLICE_SECONDS,
                      "requests": len(values),
                      "p95_ms": round(_percentile(values, 0.95)),
                      "median_ms": round(_percentile(values, 0.5))}
                     for index, values in sorted(_slices.items())],
    }
    with open(os.environ.get("LOAD_RESULT", "load-result.json"), "w") as file:
        json.dump(result, file, indent=2)

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
LINK = re.compile(r'href="(/[^"#?]*)"')


def totp(key_hex: str, at: float | None = None) -> str:
    """RFC 6238, as django-otp's TOTPDevice checks it (30 s steps, 6 digits, SHA-1)."""
    counter = int((at or time.time()) // 30)
    digest = hmac.new(bytes.fromhex(key_hex), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = (struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{code:06d}"


def _links(page: str, pattern: str) -> list[str]:
    wanted = re.compile(pattern)
    return sorted({link for link in LINK.findall(page) if wanted.fullmatch(link)})


class Person(HttpUser):
    abstract = True
    kind = ""
    staff = False
    wait_time = between(3, 12)

    def on_start(self) -> None:
        accounts = ACCOUNTS[self.kind]
        email = accounts[next(_next_account[self.kind]) % len(accounts)]
        page = self.client.get("/sign-in/", name="sign in (form)").text
        response = self.client.post(
            "/sign-in/", name="sign in (password)",
            data={"csrfmiddlewaretoken": CSRF.search(page).group(1), "username": email,
                  "password": PASSWORD},
            headers={"Referer": f"{self.host}/sign-in/"})
        for _ in range(3 if self.staff else 0):
            match = CSRF.search(response.text)
            response = self.client.post(
                "/sign-in/code/", name="sign in (code)",
                data={"csrfmiddlewaretoken": match.group(1) if match else "",
                      "code": totp(TOTP_KEY_HEX)},
                headers={"Referer": f"{self.host}/sign-in/code/"})
            if not response.url.endswith("/sign-in/code/"):
                break
            # Someone else signed in to this account in this 30-second step (fewer accounts
            # than simulated people): a code is accepted once, so wait for the next one.
            time.sleep(30 - time.time() % 30 + 1)
        _has_signed_in()
        self.home = self.client.get("/", name="home").text

    def open_some(self, page: str, pattern: str, name: str) -> str:
        """Follow one of the page's links, after reading it for a think time: people read
        a page before they choose the next (the task's own pause comes after its last)."""
        links = _links(page, pattern)
        if not links:
            return ""
        self.wait()
        return self.client.get(random.choice(links), name=name).text

    def change_an_item(self, plan_page: str) -> None:
        """Open an item's form and save it with a sentence added, as a person would."""
        forms = _links(plan_page, r"/plans/items/\d+/edit/")
        if not forms:
            return
        url = random.choice(forms)
        self.wait()
        form = self.client.get(url, name="/plans/items/[id]/edit/ (form)").text
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
        body = re.search(r'<textarea[^>]*name="body"[^>]*>(.*?)</textarea>', form, re.S)
        if body is None:
            return
        self.wait()  # writing the sentence
        fields["body"] = (html.unescape(body.group(1)).strip()[:1500]
                          + f"\nChecked on {time.strftime('%d %B')}.")[-2000:]
        title = re.search(r'<input[^>]*name="title"[^>]*value="([^"]*)"', form)
        if title:
            fields["title"] = html.unescape(title.group(1))
        self.client.post(url, data=fields, name="/plans/items/[id]/edit/ (save)",
                         headers={"Referer": f"{self.host}{url}"})


class Coordinator(Person):
    kind, staff, weight = "coordinator", True, 5

    @task(4)
    def caseload_record_and_plan(self) -> None:
        home = self.client.get("/", name="home").text
        record = self.open_some(home, r"/service-users/\d+/", "/service-users/[id]/")
        self.open_some(record, r"/plans/\d+/", "/plans/[id]/")

    @task(1)
    def edit_a_plan(self) -> None:
        record = self.open_some(self.home, r"/service-users/\d+/", "/service-users/[id]/")
        plan = self.open_some(record, r"/plans/\d+/", "/plans/[id]/")
        self.change_an_item(plan)


class ServiceUser(Person):
    kind, weight = "person", 2

    @task(3)
    def read_my_plan(self) -> None:
        self.open_some(self.client.get("/", name="home").text, r"/plans/\d+/", "/plans/[id]/")

    @task(1)
    def change_my_words(self) -> None:
        plan = self.open_some(self.home, r"/plans/\d+/", "/plans/[id]/")
        self.change_an_item(plan)


class Carer(Person):
    kind, weight = "carer", 3

    @task
    def what_was_shared(self) -> None:
        home = self.client.get("/", name="home").text
        self.open_some(home, r"/carers/people/\d+/", "/carers/people/[id]/")


class Manager(Person):
    kind, staff, weight = "manager", True, 1

    @task(3)
    def team_and_report(self) -> None:
        home = self.client.get("/", name="home").text
        team = self.open_some(home, r"/teams/\d+/", "/teams/[id]/")
        self.open_some(team, r"/teams/\d+/reports/", "/teams/[id]/reports/")
        teams = _links(home, r"/teams/\d+/")
        if teams:
            self.wait()
            self.client.get(f"{teams[0]}reports/access-events/",
                            name="/teams/[id]/reports/access-events/")

    @task(1)
    def download_the_csv(self) -> None:
        teams = _links(self.home, r"/teams/\d+/")
        if teams:
            # Read to the end, as a browser saving the file does: the time counted is the
            # whole download's (Locust asks for catch_response to stream in a with-block).
            with self.client.get(f"{teams[0]}reports/access-events/csv/", stream=True,
                                 catch_response=True,
                                 name="/teams/[id]/reports/access-events/csv/") as response:
                for _ in response.iter_content(65536):
                    pass
                if response.status_code == 200:
                    response.success()
                else:
                    response.failure(f"HTTP {response.status_code}")
