from django.apps import AppConfig


class CarersConfig(AppConfig):
    name = "carers"
    verbose_name = "Carers"

    def ready(self) -> None:
        # Records (below carers) tell us when a carer takes up their invitation.
        from carecoord.records import signals as record_signals
        from carers import receivers

        record_signals.carer_invitation_accepted.connect(
            receivers.carer_invitation_accepted, dispatch_uid="carers.invitation_accepted")
        # ...and when care coordination ends: every active carer is told, without detail.
        record_signals.episode_changed.connect(
            receivers.episode_changed, dispatch_uid="carers.episode_changed")
