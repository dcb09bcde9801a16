# syntax=docker/dockerfile:1
# Townhall's image: one image, four processes (docs/deploy.md, "What runs where").
#
#   docker build -t townhall:0.1.0 .
#   web:        (default) gunicorn townhall.wsgi on :8000, WEB_CONCURRENCY workers
#   chat:       uvicorn townhall.asgi:application --host 0.0.0.0 --port 8000   (pages + /ws/)
#   worker:     townhall db_worker --no-reload
#   scheduler:  townhall scheduler   (exactly one)
#   migrations: townhall migrate --noinput
#
# The build stage has the compilers; the runtime stage only the virtualenv, the collected
# static files and a non-root user.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/venv/bin:$PATH

# For the rare dependency without a wheel for this platform; never in the final image.
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*

RUN python -m venv /opt/venv && pip install --upgrade pip

WORKDIR /src
# Dependencies first (pinned by the constraints file): this layer is rebuilt only when
# pyproject.toml or the constraints change, not on every code change.
COPY pyproject.toml README.md LICENSE ./
COPY requirements/constraints.txt requirements/constraints.txt
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/dependencies.txt \
    && pip install -c requirements/constraints.txt -r /tmp/dependencies.txt

# Townhall itself, a regular (not editable) install into the virtualenv.
COPY townhall townhall
RUN pip install --no-deps -c requirements/constraints.txt . \
    && pip check

# Static files, hashed and compressed (whitenoise), collected once at build time. The
# production settings want these variables: dummies that exist only in this stage.
RUN TOWNHALL_ENV=production \
    SECRET_KEY=build-time-only-not-a-secret \
    ALLOWED_HOSTS=localhost \
    REDIS_URL=redis://localhost:6379/0 \
    TOWNHALL_VAR_DIR=/app/var \
    townhall collectstatic --noinput

# ---------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

# A fixed numeric id (10001): Kubernetes' runAsNonRoot checks it, the chart's
# podSecurityContext uses it, compose's ledger key file is chowned to it.
RUN groupadd --system --gid 10001 townhall \
    && useradd --system --uid 10001 --gid townhall --no-create-home \
       --home-dir /tmp --shell /usr/sbin/nologin townhall

COPY --from=build /opt/venv /opt/venv
COPY --from=build /app/var/static /app/var/static
# Uploads (residents' photos, staged photos): a volume in compose, a volume or object
# storage in Kubernetes. Created here so a new named volume is owned by the app's user.
RUN mkdir -p /app/var/media && chown townhall:townhall /app/var/media

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    XDG_CACHE_HOME=/tmp/.cache \
    DJANGO_SETTINGS_MODULE=townhall.settings \
    TOWNHALL_ENV=production \
    TOWNHALL_VAR_DIR=/app/var \
    WEB_CONCURRENCY=2

WORKDIR /app
USER 10001:10001
EXPOSE 8000

# /healthz answers after a database round trip. The probe sends the first ALLOWED_HOSTS
# name (production refuses unknown hosts) and X-Forwarded-Proto (no HTTPS redirect).
# Worker and scheduler containers have no HTTP server: compose and the chart give them
# their own checks.
HEALTHCHECK --interval=30s --timeout=5s --start-period=40s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as r; h = (os.environ.get('ALLOWED_HOSTS') or 'localhost').split(',')[0].strip().lstrip('.*') or 'localhost'; r.urlopen(r.Request('http://127.0.0.1:8000/healthz', headers={'Host': h, 'X-Forwarded-Proto': 'https'}), timeout=4)"]

CMD ["gunicorn", "townhall.wsgi", "--bind", "0.0.0.0:8000", "--worker-tmp-dir", "/tmp", "--graceful-timeout", "30", "--timeout", "60"]
