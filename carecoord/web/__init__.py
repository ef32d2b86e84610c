"""Page plumbing shared by every app: NHS.UK form rendering, the JSON error format of
the API."""
