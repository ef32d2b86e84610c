"""Managers' audit reports: reads for one team and one period, metadata only.

Seven reports — access events, review compliance, signature status, consent changes,
"Did you feel listened to?", episodes past their planned end and signposting — one
module each. Each is computed for a manager of the team (the access policy answers 404
to everyone else), and shown as a page, streamed as CSV (constant memory however many
rows) or rendered as a PDF in the background (carecoord/reporting/pdf.py).

Managers see metadata, never clinical free text: no query here selects an item's title
or body, a review's notes or comment, a discharge plan, or a consent decision's note or
basis. Queries use `values_list` with named columns, so such text is never even loaded.
Reading a report writes one access event (action `report.view` for the page,
`report.csv` for the download, `report.pdf` for the file; target `team:<id>:<report>`).

- base.py      the period, the report spec, the opened report, tables and cells
- registry.py  the one list of reports, and opening one (the policy, then the audit)
- one module per report, each ending with its `REPORT` spec
"""
