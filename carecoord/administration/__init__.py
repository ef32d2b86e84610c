"""The administration area: teams, staff accounts and their roles, and the audit of these
changes (ADR 0022). For administrators only (consent.policy.can_administer); it shows
no record or plan content."""
