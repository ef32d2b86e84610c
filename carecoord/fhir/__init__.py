"""HL7 FHIR R4 export of a service user's record (ADR 0014).

- `selectors`: reads what the viewer may see, through the access policy and the other
  rooms' selectors, and audits the read (selectors layer);
- `build`: turns that already-filtered data into a FHIR `Bundle` (plain dicts), with no
  query and no access decision of its own (pages layer);
- `api`: the thin DRF view, `/api/v1/service-users/<id>/fhir` (pages layer).
"""
