from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "consent"
    verbose_name = "Consent and access"

    def ready(self) -> None:
        # Consent reacts to changes in the layers below it, which may not import it.
        from carers import signals as carer_signals
        from consent import receivers
        from consent.reviews import services as reviews
        from plans import signals as plan_signals

        plan_signals.item_added.connect(receivers.item_added, dispatch_uid="consent.item_added")
        plan_signals.item_removed.connect(receivers.item_removed,
                                          dispatch_uid="consent.item_removed")
        carer_signals.carer_relationship_ended.connect(
            receivers.carer_relationship_ended, dispatch_uid="consent.relationship_ended")
        carer_signals.carer_account_linked.connect(
            receivers.carer_account_linked, dispatch_uid="consent.carer_account_linked")
        # Carers heard at reviews: invited when a review is scheduled (and, through the
        # import, reminded by the sweep: consent.reviews.services registers its source).
        plan_signals.review_scheduled.connect(reviews.review_scheduled,
                                              dispatch_uid="consent.review_scheduled")
