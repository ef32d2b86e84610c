"""People, roles, teams, service users' records, episodes of care, allocations and
invitations: the ground the rest of the platform stands on."""
