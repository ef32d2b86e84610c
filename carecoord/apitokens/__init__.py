"""Personal API tokens: made and revoked by their owner on the API tokens page, hashed at
rest (django-rest-knox), with a name, a scope (read only, or read and write) and an expiry
of at most 90 days. Every use is written to the access audit trail with the token's name
(ADR 0013)."""
