"""Unrolled as an LTI 1.3 tool: launches from an LMS, a deep-linking picker, and score passback (AGS).

One module per concern: ``store`` (what is kept), ``keys`` (the tool's RS256 keys and JWKS), ``platform_keys``
(the platforms' JWKS, cached), ``login`` (OIDC login initiation), ``launch`` (id_token validation),
``targets`` (which Unrolled pages a link may open), ``deep_linking``, ``ags``, ``registration`` (dynamic
registration) and ``router`` (the FastAPI routes). JWT work is PyJWT's; this package only adapts it.
"""
