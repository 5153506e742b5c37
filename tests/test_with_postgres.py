"""The database rule of the make targets, including the embedded server a fresh machine uses."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "with_postgres.py"
# Connects the way Django will (through the settings' parsing of DATABASE_URL).
PROBE = (
    "import os, django, psycopg; os.environ['SECRET_KEY'] = 'x'; django.setup();"
    "from django.db import connection;"
    "c = connection.cursor(); c.execute('CREATE EXTENSION IF NOT EXISTS btree_gist');"
    "c.execute('SHOW server_version'); print(c.fetchone()[0])"
)


def run(env: dict, *command: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--dbname", "callpath_probe", "--", *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def test_a_set_database_url_is_passed_through():
    env = {**os.environ, "DATABASE_URL": "postgres://someone@db.invalid/x"}
    result = run(env, sys.executable, "-c", "import os; print(os.environ['DATABASE_URL'])")
    assert result.stdout.strip() == "postgres://someone@db.invalid/x"


def test_without_a_url_or_a_local_server_an_embedded_postgres_runs_and_stops(tmp_path):
    pgdata = tmp_path / "pgdata"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        {
            "LOCAL_PG_PORT": "1",
            "EMBEDDED_PGDATA": str(pgdata),
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_POOL": "false",
        }
    )
    result = run(env, sys.executable, "-c", PROBE)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()[:2].isdigit()  # the server's version, e.g. 18.6
    assert "starting the embedded PostgreSQL" in result.stderr
    assert (pgdata / "PG_VERSION").exists()
    assert not (pgdata / "postmaster.pid").exists(), "the server must stop with the command"


def local_server_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not local_server_answers(), reason="no PostgreSQL on 127.0.0.1:5432")
def test_a_local_server_is_preferred_to_the_embedded_one():
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    result = run(env, sys.executable, "-c", "import os; print(os.environ['DATABASE_URL'])")
    assert result.stdout.strip() == "postgres://postgres@127.0.0.1:5432/callpath_probe"


def test_a_terminated_command_still_stops_the_embedded_server(tmp_path):
    pgdata = tmp_path / "pgdata"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update({"LOCAL_PG_PORT": "1", "EMBEDDED_PGDATA": str(pgdata)})
    process = subprocess.Popen(
        [sys.executable, str(SCRIPT), "--", sys.executable, "-c", "import time; time.sleep(60)"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    for _ in range(600):  # wait for the server to be up
        if (pgdata / "postmaster.pid").exists():
            break
        time.sleep(0.1)
    assert (pgdata / "postmaster.pid").exists()
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=60)
    assert not (pgdata / "postmaster.pid").exists()
