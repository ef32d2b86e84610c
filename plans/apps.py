from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "plans"
    verbose_name = "Plans"

    def ready(self) -> None:
        # Registers the "plan_version" PDF renderer with the background exports
        # (carecoord.exports), in the web process and in the Celery worker alike.
        # Records (below plans) tell us when an episode starts or changes: the care plan's
        # discharge items follow it.
        from carecoord.records import signals as record_signals
        from plans import (
            exports,  # noqa: F401
            receivers,
        )

        record_signals.episode_changed.connect(receivers.episode_changed,
                                               dispatch_uid="plans.episode_changed")
