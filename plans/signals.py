"""What plans tell the layers above them, inside the transaction that made the change.

Plans sit below consent, so they cannot call it; consent connects its receivers to these
signals (consent/apps.py), and they run synchronously, in the same transaction: a new
item in a shared section is shared in the same commit, a removed item is unshared in it.
"""

from django.dispatch import Signal

# item: the PlanItem just created.
item_added = Signal()
# item: the PlanItem just removed.
item_removed = Signal()
# plan: a care plan whose next review date has just been set (a new plan, or a review
# recorded): the carers the service user involves in reviews are invited to give views.
review_scheduled = Signal()
