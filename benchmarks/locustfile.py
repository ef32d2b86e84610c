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
import os
import random
import re
import struct
import time

from locust import HttpUser, between, task

PASSWORD = os.environ.get("LOAD_PASSWORD", "scale-data-not-for-production")
# The scale data's staff authenticator key, hex (carecoord/demo/scale.py).
TOTP_KEY_HEX = os.environ.get("LOAD_TOTP_KEY", "")
DOMAIN = "scale.example.test"
COUNTS = {  # how many accounts of each kind to spread the simulated users over
    "coordinator": int(os.environ.get("LOAD_COORDINATORS", "150")),
    "person": int(os.environ.get("LOAD_PEOPLE", "3000")),
    "carer": int(os.environ.get("LOAD_CARERS", "3000")),
    "manager": int(os.environ.get("LOAD_MANAGERS", "20")),
}
_next_account = {kind: itertools.count(1) for kind in COUNTS}

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
        number = next(_next_account[self.kind]) % COUNTS[self.kind] + 1
        email = f"{self.kind}{number:06d}@{DOMAIN}"
        page = self.client.get("/sign-in/", name="sign in (form)").text
        response = self.client.post(
            "/sign-in/", name="sign in (password)",
            data={"csrfmiddlewaretoken": CSRF.search(page).group(1), "username": email,
                  "password": PASSWORD},
            headers={"Referer": f"{self.host}/sign-in/"})
        if self.staff:
            page = response.text
            match = CSRF.search(page)
            self.client.post(
                "/sign-in/code/", name="sign in (code)",
                data={"csrfmiddlewaretoken": match.group(1) if match else "",
                      "code": totp(TOTP_KEY_HEX)},
                headers={"Referer": f"{self.host}/sign-in/code/"})
        self.home = self.client.get("/", name="home").text

    def open_some(self, page: str, pattern: str, name: str) -> str:
        links = _links(page, pattern)
        if not links:
            return ""
        return self.client.get(random.choice(links), name=name).text

    def change_an_item(self, plan_page: str) -> None:
        """Open an item's form and save it with a sentence added, as a person would."""
        forms = _links(plan_page, r"/plans/items/\d+/edit/")
        if not forms:
            return
        url = random.choice(forms)
        form = self.client.get(url, name="/plans/items/[id]/edit/ (form)").text
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
        body = re.search(r'<textarea[^>]*name="body"[^>]*>(.*?)</textarea>', form, re.S)
        if body is None:
            return
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
            self.client.get(f"{teams[0]}reports/access-events/",
                            name="/teams/[id]/reports/access-events/")

    @task(1)
    def download_the_csv(self) -> None:
        teams = _links(self.home, r"/teams/\d+/")
        if teams:
            with self.client.get(f"{teams[0]}reports/access-events/csv/", stream=True,
                                 name="/teams/[id]/reports/access-events/csv/") as response:
                for _ in response.iter_content(65536):
                    pass
