"""What goes on the wire: core's NumPy results as JSON-ready, column-oriented payloads (``serialize``, and the
Seq2Seq and what-if blocks), rounded correctly to p significant digits (``rounding``), and traces as files (CSV,
NPZ, JSON: ``export``). Pure functions of results; no HTTP, no store.
"""
