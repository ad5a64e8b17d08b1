"""The ``unrolled`` command.

    unrolled serve [--host H] [--port P] [--workers N] [--reload]   run the web server (uvicorn)
    unrolled trace REQUEST.json [--format json|csv|npz] [-o FILE]   one trace offline, same code as the API

Only the standard library is imported at module level: BLAS thread counts must be fixed in the environment
before NumPy is first imported, in this process and in every worker uvicorn starts.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

#: One BLAS thread per worker: requests are small matrix-vector products, and several workers (or threads of
#: the request pool) each spinning up a BLAS thread pool would only fight over the cores.
BLAS_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def single_blas_thread() -> None:
    for name in BLAS_THREAD_VARIABLES:
        os.environ.setdefault(name, "1")


def enough_file_descriptors(connections: int) -> None:
    """Raise this process's soft limit on open files (inherited by uvicorn's workers) towards the hard limit,
    so that ``connections`` sockets, plus the store's files, fit: a common soft limit of 1024 would make the
    server fail to accept connections well before the concurrency limit answers 503."""
    try:
        import resource
    except ImportError:  # not on POSIX
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = connections + 256
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def serve(args: argparse.Namespace) -> int:
    single_blas_thread()
    import uvicorn

    from app.http.server_replies import HttpToolsWithHeaders
    from app.settings import Settings

    settings = Settings.from_env()
    enough_file_descriptors(settings.concurrency_limit)
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=None if args.reload else (args.workers or settings.workers),
        reload=args.reload,
        limit_concurrency=settings.concurrency_limit,
        # uvicorn would otherwise believe X-Forwarded-For from 127.0.0.1, so any local client could spoof it.
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=",".join(settings.trusted_proxies) or None,
        server_header=False,
        http=HttpToolsWithHeaders,  # its own 400s (and 503s) carry our security headers
        access_log=settings.access_log,
        log_level=args.log_level,
    )
    return 0


def trace(args: argparse.Namespace) -> int:
    single_blas_thread()
    from pydantic import ValidationError

    from app.errors import ApiError
    from app.schemas.requests import TraceRequest
    from app.services.trace import run_trace
    from app.settings import Settings
    from app.storage import open_database
    from app.storage.models import ModelStore
    from app.wire.export import export

    raw = sys.stdin.read() if args.request == "-" else Path(args.request).read_text(encoding="utf-8")
    try:
        req = TraceRequest.model_validate_json(raw)
    except ValidationError as exc:
        print(f"unrolled trace: invalid request:\n{exc}", file=sys.stderr)
        return 2
    settings = Settings.from_env()
    store = ModelStore(open_database(settings)) if req.weights.source == "stored" else None
    try:
        result = run_trace(req, store=store, limits=settings.limits)
    except ApiError as exc:
        where = ".".join(str(part) for part in exc.loc)
        print(f"unrolled trace: {where}: {exc.message}", file=sys.stderr)
        return 2
    data = export(result, args.format)
    if args.output in (None, "-"):
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        Path(args.output).write_bytes(data)
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="unrolled", description="Unrolled: a visual simulator of recurrent networks."
    )
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="run the web server")
    s.add_argument("--host", help="address to bind (default UNROLLED_HOST or 127.0.0.1)")
    s.add_argument("--port", type=int, help="port (default UNROLLED_PORT or 8000)")
    s.add_argument("--workers", type=int, help="worker processes (default UNROLLED_WORKERS or 1)")
    s.add_argument("--reload", action="store_true", help="restart on code changes (development; one worker)")
    s.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    s.set_defaults(func=serve)
    t = sub.add_parser("trace", help="run one trace request offline and write it to a file")
    t.add_argument("request", help="a JSON file holding a POST /api/v1/trace body ('-' reads stdin)")
    t.add_argument("--format", default="json", choices=["json", "csv", "npz"])
    t.add_argument("-o", "--output", help="output file (default: standard output)")
    t.set_defaults(func=trace)
    from app.lti.cli import add_parser as add_lti_parser

    add_lti_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
