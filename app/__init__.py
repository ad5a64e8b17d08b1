"""Unrolled's web layer: FastAPI JSON API under /api/v1, HTML pages and HTMX fragments, CLI."""
