"""Benchmark: the managers' access-events CSV streams 100,000 events in bounded memory.

Run it with `make bench` (which runs
`./scripts/test.sh benchmarks/bench_audit_csv.py -s -p no:randomly`): the test command
starts a throwaway PostgreSQL, so the CSV is read through a real server-side cursor
(`.iterator(chunk_size=2000)`), exactly as in production. It is a pytest file so that it
gets that database; it lives outside `tests/` so the normal suite does not run it.

It writes 10,000 access events through the audit service (hash chain and all), streams
the CSV through the real view as the team's manager and measures the time and the peak
Python memory (tracemalloc) while the response is consumed; then it adds 90,000 more and
measures again. Streaming in constant memory means the two peaks are about the same.
"""

from __future__ import annotations

import time
import tracemalloc

import pytest
from django.http import StreamingHttpResponse
from django.test import Client
from django.utils import timezone

from carecoord.audit.models import AccessEvent
from carecoord.audit.services import access_events_record
from carecoord.records.models import Role
from tests.conftest import pass_second_factor
from tests.factories import (
    AllocationFactory,
    EpisodeFactory,
    ServiceUserFactory,
    TeamFactory,
    UserFactory,
)

BATCH = 10_000
MiB = 1024 * 1024


@pytest.fixture(autouse=True)
def _plain_http(settings):
    settings.SECURE_SSL_REDIRECT = False


def _add_events(*, actor, service_users, count: int) -> None:
    for start in range(0, count, BATCH):
        size = min(BATCH, count - start)
        service_user = service_users[(start // BATCH) % len(service_users)]
        access_events_record(
            actor=actor, service_user=service_user, action="plan.view",
            targets=[(f"plan_item:{start + n}", "allocated care coordinator")
                     for n in range(size)],
        )


def _stream(client: Client, url: str, *, measure_memory: bool) -> tuple[int, int, float, int]:
    """(lines, bytes, seconds, peak bytes) for one full download of the CSV."""
    if measure_memory:
        tracemalloc.start()
        tracemalloc.reset_peak()
    started = time.perf_counter()
    response = client.get(url)
    assert isinstance(response, StreamingHttpResponse)
    lines = size = 0
    for chunk in response.streaming_content:
        lines += chunk.count(b"\n")
        size += len(chunk)
    # (The test client closes the response when its content is exhausted.)
    seconds = time.perf_counter() - started
    peak = 0
    if measure_memory:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return lines, size, seconds, peak


@pytest.mark.django_db
def test_bench_access_events_csv_100k():
    team = TeamFactory(name="Benchmark Team")
    manager = UserFactory(roles=[Role.MANAGER], full_name="Bench Manager")
    team.managers.add(manager)
    coordinator = UserFactory(roles=[Role.COORDINATOR], full_name="Bench Coordinator")
    team.coordinators.add(coordinator)
    service_users = []
    for n in range(5):
        service_user = ServiceUserFactory(team=team, full_name=f"Service User {n}")
        AllocationFactory(episode=EpisodeFactory(service_user=service_user),
                          coordinator=coordinator)
        service_users.append(service_user)
    client = Client()
    client.force_login(manager)
    pass_second_factor(client, manager)
    today = timezone.localdate()
    url = f"/teams/{team.pk}/reports/access-events/csv/?start={today}&end={today}"

    results = []
    written = 0
    for target in (10_000, 100_000):
        started = time.perf_counter()
        _add_events(actor=coordinator, service_users=service_users, count=target - written)
        generated = time.perf_counter() - started
        written = target
        assert AccessEvent.objects.filter(service_user__team=team).count() == target
        lines, size, seconds, _ = _stream(client, url, measure_memory=False)
        assert lines == target + 1  # the header and one line per event
        _, _, traced_seconds, peak = _stream(client, url, measure_memory=True)
        results.append((target, generated, seconds, size, peak, traced_seconds))

    print("\nAccess-events CSV, streamed through the view (PostgreSQL server-side cursor, "
          "chunk_size=2000)")
    print(f"{'events':>8} {'generate s':>11} {'stream s':>9} {'rows/s':>9} {'CSV MiB':>8} "
          f"{'peak MiB (tracemalloc)':>23}")
    for target, generated, seconds, size, peak, _ in results:
        print(f"{target:>8,} {generated:>11.2f} {seconds:>9.2f} {target / seconds:>9,.0f} "
              f"{size / MiB:>8.1f} {peak / MiB:>23.2f}")
    (_, _, _, small_size, small_peak, _), (_, _, _, big_size, big_peak, _) = results
    print(f"CSV grew {big_size / small_size:.1f}x; peak memory grew "
          f"{big_peak / small_peak:.2f}x.")
    # Bounded: ten times the rows, nowhere near ten times the memory, and far below the
    # size of the file itself.
    assert big_peak < small_peak * 2 + 2 * MiB
    assert big_peak < big_size / 4
