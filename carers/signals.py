"""What carers' records tell the layers above them, inside the transaction that made the
change (consent connects its receivers in consent/apps.py; they run synchronously, so a
withdrawal commits with the relationship's end, or not at all)."""

from django.dispatch import Signal

# relationship: the CarerRelationship that has just ended; ended_by: the User who ended it.
carer_relationship_ended = Signal()
# carer: the Carer whose account has just been linked (an accepted invitation).
carer_account_linked = Signal()
