"""Make sure the tests have a Redis: CELERY_BROKER_URL's, else the local one, started if it is
installed but stopped. Prints what it found; never fails (the tests that need Redis decide:
skipped loudly on a laptop, failed in CI)."""

import os
import shutil
import socket
import subprocess
import sys
import time
from urllib.parse import urlparse


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def main() -> int:
    url = urlparse(os.environ.get("CELERY_BROKER_URL") or "redis://127.0.0.1:6379/0")
    host, port = url.hostname or "127.0.0.1", url.port or 6379
    if answers(host, port):
        print(f"ensure_redis: Redis answers on {host}:{port}")
        return 0
    server = shutil.which("redis-server")
    if host in ("127.0.0.1", "localhost") and server:
        print(f"ensure_redis: starting {server} on port {port}")
        subprocess.run(
            [
                server,
                "--daemonize",
                "yes",
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            check=False,
        )
        for _ in range(50):
            if answers(host, port):
                return 0
            time.sleep(0.1)
    print(
        f"ensure_redis: WARNING no Redis on {host}:{port}; Redis tests will be skipped "
        "(or fail in CI)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
