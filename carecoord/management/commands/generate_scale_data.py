"""python manage.py generate_scale_data: one trust's worth of data for the benchmark
(carecoord/demo/scale.py, ADR 0023). `--small` for tests; `--scale medium` in between."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

from carecoord.demo.scale import SCALE_PASSWORD, SCALES, generate, scale_data_present

NOT_PRODUCTION_FLAG = "--i-know-this-is-not-production"


class Command(BaseCommand):
    help = ("Create scale data (teams, service users, carers, plans, consent, access "
            "events) for benchmarking. Every account gets a published password.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--small", action="store_true",
                            help="A small trust (2 teams, 60 service users), for tests.")
        parser.add_argument("--scale", choices=sorted(SCALES), default=None,
                            help="trust (the default: 6,000 service users), medium or small.")
        parser.add_argument("--seed", type=int, default=15,
                            help="The random seed: the same seed makes the same data.")
        parser.add_argument("--today", type=dt.date.fromisoformat, default=None,
                            help="The day every date is worked out from (YYYY-MM-DD; "
                                 "default: today).")
        parser.add_argument(NOT_PRODUCTION_FLAG, dest="not_production", action="store_true",
                            help="Run with DEBUG off (a benchmark database, never a real one).")

    def handle(self, *args, small: bool = False, scale: str | None = None, seed: int = 15,
               today: dt.date | None = None, not_production: bool = False,
               **options) -> None:
        # Thousands of accounts with one published password: in a real deployment that
        # would be a door anyone who read this file could open. DEBUG or a flag that
        # says, in so many words, that this database is not production.
        if not settings.DEBUG and not not_production:
            raise CommandError(
                "generate_scale_data creates thousands of accounts with a published "
                f"password, so it runs only with DEBUG=true or {NOT_PRODUCTION_FLAG}.")
        if small and scale not in (None, "small"):
            raise CommandError("Give --small or --scale, not both.")
        chosen = "small" if small else (scale or "trust")
        if scale_data_present():
            self.stdout.write("Scale data is already here; nothing made.")
            return
        self.stdout.write(f"Generating the {chosen} scale data (seed {seed})...")
        # The data holds no notifications; no email goes anywhere.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
            generate(scale=SCALES[chosen], seed=seed, today=today,
                     say=lambda line: self.stdout.write(line))
        self.stdout.write(self.style.SUCCESS(
            f"Scale data ready. Every account's password: {SCALE_PASSWORD}"))
