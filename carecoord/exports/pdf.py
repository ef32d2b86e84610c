"""HTML to PDF, one way for every export: tagged and accessible (PDF/UA-1), built from
the rendered template alone."""

from __future__ import annotations

import weasyprint


class _NoFetching(weasyprint.URLFetcher):
    """Nothing is fetched, local or remote: a PDF holds exactly what its template says."""

    def fetch(self, url, headers=None):
        raise ValueError(f"Exported PDFs load no resources ({url!r} refused).")


def html_to_pdf(html: str) -> bytes:
    """A tagged, accessible PDF (PDF/UA-1: structure tags, language, title)."""
    document = weasyprint.HTML(string=html, base_url="/", url_fetcher=_NoFetching())
    return document.write_pdf(pdf_variant="pdf/ua-1")
