from django.apps import AppConfig


class CarecoordConfig(AppConfig):
    name = "carecoord"
    verbose_name = "Care coordination"

    def ready(self) -> None:
        # Register the managers' report PDF renderer and its download check with the
        # background exports (carecoord.exports), in every process: web and worker.
        from carecoord import report_pdf  # noqa: F401
