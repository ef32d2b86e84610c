from django.apps import AppConfig


class CarecoordConfig(AppConfig):
    name = "carecoord"
    verbose_name = "Care coordination"

    def ready(self) -> None:
        # Every log record, in every process, made safe as it is created (no tokens, no
        # clinical text in exception messages, no forged lines).
        from carecoord.web import log_safety

        log_safety.install()
        # In every process (web and worker), once the models are loaded: register the
        # managers' report PDF renderer with the background exports, and the exports'
        # and the audit chainer's Celery tasks (Celery's autodiscovery looks only for
        # `<app>.tasks`); the "getting stuck" prompts with the things to do
        # (carecoord/todo/selectors.py); and end a
        # person's sessions when their account is disabled or loses a role (receivers).
        from carecoord.audit import tasks as audit_tasks  # noqa: F401
        from carecoord.exports import tasks  # noqa: F401
        from carecoord.freshness import receivers as freshness_receivers
        from carecoord.records import sessions  # noqa: F401
        from carecoord.reporting import pdf, todo  # noqa: F401

        # Every write of the product's models changes the generations of whom it concerns,
        # so what was worked out from them (the things to do) is not shown stale.
        freshness_receivers.connect()
