"""Managers' reports and "getting stuck" prompts: reads over many records at once.

A plain package inside the carecoord app (no models, no migrations of its own). It sits
at the top layer: it reads through carecoord's models, services and selectors, plans,
carers, consent.policy and peersupport, and nothing below it imports it. Pages whose
views live below it show the prompts through its template tags, which settings
registers by dotted path.

- stuck.py      the "getting stuck" rules
- selectors.py  the prompts for a caseload, a team, or one's own record
- templatetags/reporting_tags.py  those prompts on other apps' pages
- demo.py       demo data that triggers every rule
"""
