"""The carecoord app's models, defined in its sub-packages (records, audit,
notifications, exports) and gathered here because Django loads an app's models from
`<app>.models`. Code imports them from the sub-package that owns them, never from here
(an import-linter contract); one app label keeps the tables, the migrations and
`AUTH_USER_MODEL = "carecoord.User"` as they were (ADR 0007)."""

from carecoord.apitokens.models import ApiToken, TokenScope
from carecoord.audit.models import (
    GENESIS_HASH,
    AccessEvent,
    AppendOnlyError,
    AuditArchive,
    AuditChainHead,
)
from carecoord.exports.models import Export
from carecoord.notifications.models import Notification
from carecoord.records.models import (
    Allocation,
    BreakGlassAccess,
    CareTeamMember,
    ContactMethod,
    Episode,
    Invitation,
    InvitationKind,
    PossibleDuplicate,
    Role,
    ServiceUser,
    Team,
    User,
    UserManager,  # named by migration 0001
    UserRole,
)

__all__ = [
    "GENESIS_HASH", "AccessEvent", "Allocation", "ApiToken", "AppendOnlyError",
    "AuditArchive", "AuditChainHead", "BreakGlassAccess", "CareTeamMember", "ContactMethod",
    "Episode", "Export", "Invitation", "InvitationKind", "Notification", "PossibleDuplicate",
    "Role", "ServiceUser", "Team", "TokenScope", "User", "UserManager", "UserRole",
]
