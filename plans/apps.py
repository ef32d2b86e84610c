from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "plans"
    verbose_name = "Plans"

    def ready(self) -> None:
        # Registers the "plan_version" PDF renderer with the background exports
        # (carecoord.exports), in the web process and in the Celery worker alike.
        from plans import exports  # noqa: F401
