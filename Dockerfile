# syntax=docker/dockerfile:1
# Two stages: build wheels with the compilers, run on a slim image as a non-root user.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY config ./config
COPY campaigns ./campaigns
COPY calls ./calls
COPY attribution ./attribution
RUN python -m venv /venv && /venv/bin/pip install .

FROM python:3.11-slim AS runtime
ENV PATH=/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=config.settings PORT=8000
RUN useradd --system --uid 10001 --home-dir /app callpath
WORKDIR /app
COPY --from=build /venv /venv
COPY --chown=callpath:callpath manage.py ./
COPY --chown=callpath:callpath config ./config
COPY --chown=callpath:callpath campaigns ./campaigns
COPY --chown=callpath:callpath calls ./calls
COPY --chown=callpath:callpath attribution ./attribution
# collectstatic needs settings to load, not a database or real secrets.
RUN SECRET_KEY=collectstatic-only DATABASE_URL=postgres://build@localhost/build \
    python manage.py collectstatic --no-input && chown -R callpath:callpath /app/staticfiles
USER callpath
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os,urllib.request,sys; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/healthz', timeout=4); sys.exit(0)"
CMD ["sh", "-c", "exec gunicorn config.wsgi:application --bind 0.0.0.0:${PORT} --workers ${WEB_CONCURRENCY:-3} --access-logfile -"]
