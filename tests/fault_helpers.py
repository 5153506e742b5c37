"""The real services the fault tests start, stop and break: Celery workers, a private
redis-server, the test process publishing to a real broker, free ports, and the loud skip (a
failure in CI) when a server binary is missing."""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis

from config.celery import app
from tests.attribution.test_dni_tasks import database_url_of_the_test_database
from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[1]
# Workers back off in fractions of a second (a 429's Retry-After: 1 still wins) and never give
# a row up: the fault tests are about delivery, not dead letters.
FAST = {
    "CONVERSIONS_BACKOFF_BASE_SECONDS": "0.2",
    "CONVERSIONS_BACKOFF_CAP_SECONDS": "1.5",
    "CONVERSIONS_MAX_ATTEMPTS": "50",
}


def require(what: str, found: object, hint: str) -> None:
    """Skip loudly when a server binary is missing, or fail in CI, where every one must be."""
    if found:
        return
    message = f"SKIPPED, NEEDS {what}: {hint}"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once the probe is closed


def start_worker(*, broker_url: str, queue: str, log: Path, concurrency: int = 1, **env):
    """A real worker in its own process group (so a test can kill it and its pool at once),
    on the test database unless `DATABASE_URL` is given."""
    environment = {
        **os.environ,
        **FAST,
        "DATABASE_URL": database_url_of_the_test_database(),
        **env,
        "CELERY_BROKER_URL": broker_url,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "test-only-secret"),
    }
    pool = "solo" if concurrency == 1 else "prefork"
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", f"--pool={pool}"]
    command += [f"--concurrency={concurrency}", "-Q", queue, "-n", f"{uuid.uuid4().hex}@%h"]
    command += ["--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    return subprocess.Popen(
        command, cwd=ROOT, env=environment, stdout=log.open("a"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip


def stop(process: subprocess.Popen) -> None:
    """Stop a process started in its own session (a worker, gunicorn) and all its children."""
    if process.poll() is None:
        process.terminate()  # a warm shutdown
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=15)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # whatever of its pool is left
    process.wait(timeout=5)


@contextlib.contextmanager
def publishing_to(broker_url: str, queue: str):
    """The test process's Celery app publishes to a real broker (the tests' settings run tasks
    eagerly), so the outbox's on-commit nudge reaches the worker, or fails, as in production."""
    saved = {
        name: app.conf[name] for name in ("broker_url", "task_always_eager", "task_default_queue")
    }
    app.conf.update(broker_url=broker_url, task_always_eager=False, task_default_queue=queue)
    forget_connections()
    try:
        yield
    finally:
        app.conf.update(saved)
        forget_connections()


def forget_connections() -> None:
    if app._pool is not None:
        app._pool.force_close_all()
    app._pool = None
    app.amqp._producer_pool = None


def redis_server_binary() -> str | None:
    return shutil.which("redis-server")


def start_redis(port: int, log: Path) -> subprocess.Popen:
    """A private redis-server on `port`, without persistence (a restart starts empty)."""
    require("redis-server", redis_server_binary(), "install it (apt-get install redis-server).")
    command = [redis_server_binary(), "--port", str(port)]
    command += ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    server = subprocess.Popen(command, stdout=log.open("a"), stderr=subprocess.STDOUT)
    client = redis.Redis(port=port, socket_connect_timeout=0.2)
    for _ in range(50):
        with contextlib.suppress(redis.ConnectionError):
            if client.ping():
                return server
        time.sleep(0.1)
    raise AssertionError(f"redis-server did not start:\n{log.read_text()}")


def stop_redis(server: subprocess.Popen) -> None:
    server.terminate()
    server.wait(timeout=10)
