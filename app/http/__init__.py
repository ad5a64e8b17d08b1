"""What every reply passes through, whichever route made it: security headers, body size limit and last-resort
500 (``security``), the per-client rate limit (``ratelimit``), content encoding (``compression``,
``compress_middleware``), the bounded reply cache (``cache``), JSON replies (``responses``), exception handlers
that turn app.errors into statuses (``handlers``), uvicorn's own replies (``server_replies``) and the heavy-work
process pool that keeps big requests off the worker (``heavy_lane``).
"""
