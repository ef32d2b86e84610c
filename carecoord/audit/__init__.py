"""The access audit trail: append-only, hash-chained events of who read or changed
what, on which basis; and its verification."""
