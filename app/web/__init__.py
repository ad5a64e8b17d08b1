"""HTML pages and HTMX fragments of the simulator (server-rendered SVG, view-models computed in Python)."""
