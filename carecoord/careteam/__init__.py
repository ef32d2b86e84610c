"""A record's care team beyond one coordinator, and emergency (break-glass) access: the
writes. The models are records' (carecoord/records/models.py); who may do what is the
policy's (consent/policy/care_team.py)."""
