"""Managers' reports and "getting stuck" prompts: reads over many records at once.

A plain package inside the carecoord app (no models, no migrations of its own). It sits
at the top layer: it reads through carecoord's models, services and selectors, plans,
carers, consent.policy and peersupport, and nothing below it imports it. Only the
project's wiring reaches in: carecoord/urls.py (the report pages), carecoord/apps.py
(registering the PDF renderer), settings (the template tags that put the prompts on
pages whose views live below) and the seed_demo command.

- reports/      one module per report, and the one registry of them (registry.py)
- views.py      the report pages, CSV downloads and PDF requests
- pdf.py        the report PDF, rendered in the background
- csv_stream.py CSV in constant memory
- stuck.py      the "getting stuck" rules
- selectors.py  the prompts for a caseload, a team, or one's own record
- templatetags/reporting_tags.py  those prompts on other apps' pages
- demo.py       demo data that triggers every rule
"""
