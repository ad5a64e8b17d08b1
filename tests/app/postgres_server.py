"""A throwaway PostgreSQL server for the tests, from Debian's ``postgresql`` package.

``PostgresServer.start()`` runs initdb into a fresh temporary directory and starts ``postgres`` on a Unix socket
in that directory only (no TCP port, so parallel runs cannot collide), with durability off (fsync,
synchronous_commit): a test database is thrown away anyway. As root it runs both as the ``postgres`` user
(the server refuses to run as root). ``stop()`` ends the server by the PID it wrote to postmaster.pid (SIGINT:
PostgreSQL's fast shutdown) and waits for it to go, so nothing outlives the test session.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

PORT = 5432  # only names the socket file (.s.PGSQL.5432) inside our own directory


def binaries() -> Path | None:
    """The newest /usr/lib/postgresql/<version>/bin holding initdb, or None when the package is missing."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


class PostgresServer:
    def __init__(self) -> None:
        bindir = binaries()
        if bindir is None:
            raise RuntimeError("PostgreSQL is not installed: apt-get install -y postgresql")
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="unrolled-pg-"))  # under /tmp: the postgres user can reach it
        self.data = self.root / "data"
        self.process: subprocess.Popen[bytes] | None = None
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            self.as_user = ["runuser", "-u", "postgres", "--"]
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)

    @property
    def url(self) -> str:
        """The server's ``postgres`` database, as the postgres superuser (trust authentication on the socket)."""
        return f"postgresql://postgres@/postgres?host={self.root}&port={PORT}"

    def start(self) -> PostgresServer:
        if not self.data.exists():
            subprocess.run(
                [*self.as_user, str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres",
                 "-A", "trust", "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"],
                check=True, capture_output=True,
            )
        self.log = open(self.root / "server.log", "ab")  # noqa: SIM115  # the server's stderr; closed by stop()
        self.process = subprocess.Popen(
            [*self.as_user, str(self.bindir / "postgres"), "-D", str(self.data), "-k", str(self.root),
             "-p", str(PORT), "-c", "listen_addresses=", "-c", "fsync=off", "-c", "synchronous_commit=off",
             "-c", "full_page_writes=off", "-c", "max_connections=400"],
            stdout=subprocess.DEVNULL, stderr=self.log,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                psycopg.connect(self.url, connect_timeout=2).close()
                return self
            except psycopg.OperationalError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    log = (self.root / "server.log").read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"PostgreSQL did not start:\n{log}") from None
                time.sleep(0.05)

    def pid(self) -> int | None:
        """The postmaster's PID, from the file it writes on start (runuser's own PID is not the server's)."""
        pidfile = self.data / "postmaster.pid"
        return int(pidfile.read_text().split()[0]) if pidfile.exists() else None

    def stop(self) -> None:
        """Fast shutdown by PID, waiting until the server has gone."""
        pid = self.pid()
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGINT)
        if self.process is not None:
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                if pid is not None:
                    os.kill(pid, signal.SIGKILL)
                self.process.wait(timeout=10)
            self.process = None
        if getattr(self, "log", None) is not None:
            self.log.close()
            self.log = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
