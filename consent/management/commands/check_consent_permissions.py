from django.core.management.base import BaseCommand, CommandError

from consent.services import consent_permissions_check, consent_permissions_repair


class Command(BaseCommand):
    help = ("Find any difference between carers' consent decisions and their object "
            "permissions; with --repair, make the permissions match the decisions.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--repair", action="store_true",
                            help="Make the permissions match the decisions.")

    def handle(self, *args, repair: bool = False, **options) -> None:
        drift = consent_permissions_repair() if repair else consent_permissions_check()
        for found in drift:
            who = (f"carer {found.carer.pk} ({found.carer})" if found.carer
                   else f"user {found.user_id}")
            self.stdout.write(f"{who}, item {found.item_id}: {found.problem}")
        if not drift:
            self.stdout.write(self.style.SUCCESS("OK: permissions match consent decisions."))
        elif repair:
            self.stdout.write(self.style.SUCCESS(f"Repaired {len(drift)} difference(s)."))
        else:
            raise CommandError(f"{len(drift)} difference(s); run with --repair to fix them.")
