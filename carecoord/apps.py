from django.apps import AppConfig


class CarecoordConfig(AppConfig):
    name = "carecoord"
    verbose_name = "Care coordination"

    def ready(self) -> None:
        # Register the managers' report PDF renderer and its download check with the
        # background exports (carecoord.exports), in every process: web and worker.
        # Imported here, not at the top: the renderer needs the models, loaded by now.
        from carecoord.reporting import pdf  # noqa: F401
