"""Background file exports (PDFs): queued, rendered by a Celery task as the requester
may see them, stored privately, downloadable only while the policy allows."""
