from django.apps import AppConfig


class CarecoordConfig(AppConfig):
    name = "carecoord"
    verbose_name = "Care coordination"

    def ready(self) -> None:
        # In every process (web and worker), once the models are loaded: register the
        # managers' report PDF renderer with the background exports, and the exports'
        # Celery tasks (Celery's autodiscovery looks only for `<app>.tasks`); and end a
        # person's sessions when their account is disabled or loses a role (receivers).
        from carecoord.exports import tasks  # noqa: F401
        from carecoord.records import sessions  # noqa: F401
        from carecoord.reporting import pdf  # noqa: F401
