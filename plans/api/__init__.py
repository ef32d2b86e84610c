"""JSON API for plans, under /api/v1/ (urls.py is included from carecoord/urls.py).

One module a resource — plans, items, goals (agreements and progress), versions (and
signatures), reviews — over the shared item output (serializers), If-Match handling
(etags) and the 409 for a refused action (errors). Same policy as the pages: what the
caller may not see is 404.
"""
