"""What records tell the layers above them, inside the transaction that made the change
(receivers run synchronously; an exception in one undoes the whole change)."""

from django.dispatch import Signal

# invitation: the carer's Invitation being accepted; user: the User taking it up. The
# carers app links the carer's account (and may refuse with InvitationUnusableError).
carer_invitation_accepted = Signal()

# episode: an Episode just started or changed; changed_by: who; ended: True when this change
# ended care coordination (a discharge). Plans keep the care plan's "planned end" items in
# step; carers tell every active carer that care coordination has ended.
episode_changed = Signal()
