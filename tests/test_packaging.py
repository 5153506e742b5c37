"""What can be checked of the Docker set-up without a Docker engine."""

import importlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

BASE_DIR = Path(__file__).resolve().parent.parent
DOCKERFILE = (BASE_DIR / "Dockerfile").read_text()


def test_the_compose_file_defines_the_whole_stack():
    compose = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) >= {"db", "redis", "web", "worker", "beat"}
    assert services["worker"]["command"][:3] == ["celery", "-A", "config"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://")
        assert env["CELERY_BROKER_URL"].startswith("redis://")


def test_the_image_is_multi_stage_non_root_and_health_checked():
    assert len(re.findall(r"^FROM ", DOCKERFILE, re.M)) == 2
    assert re.search(r"^USER callpath$", DOCKERFILE, re.M)
    assert "HEALTHCHECK" in DOCKERFILE
    assert "/healthz" in DOCKERFILE
    assert "collectstatic" in DOCKERFILE


def test_the_image_copies_every_app_and_the_entrypoints_exist():
    for package in ("config", "campaigns", "calls", "attribution"):
        assert f"COPY --chown=callpath:callpath {package} ./{package}" in DOCKERFILE
    wsgi = re.search(r"gunicorn (\S+):(\S+)", DOCKERFILE)
    module = importlib.import_module(wsgi.group(1))
    assert callable(getattr(module, wsgi.group(2)))
    bin_dir = Path(sys.executable).parent
    assert (bin_dir / "gunicorn").exists() or shutil.which("gunicorn")


def test_the_celery_app_is_named_config_and_loads_its_settings():
    result = subprocess.run(
        [str(Path(sys.executable).parent / "celery"), "-A", "config", "inspect", "--help"],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"SECRET_KEY": "x", "PATH": str(Path(sys.executable).parent)},
    )
    assert result.returncode == 0, result.stderr
    from config.celery import app

    assert app.main == "config"
