# syntax=docker/dockerfile:1
# Freightdesk: one image for every topology. Which modules a container hosts is configuration
# (FREIGHTDESK_MODULES), not a different build; docs/deployment.md says how to run it (compose, Kubernetes).
#
#   docker build -t freightdesk:local .
#
# Two stages: the builder installs the locked dependencies with uv into a virtual environment; the runtime
# stage gets that environment and the code, nothing else (no uv, no compiler, no build caches), and runs as an
# unprivileged numeric user.
#
# The image starts in production mode, which refuses insecure defaults at start (kernel.settings and
# kernel.security.keys): every <MODULE>_DATABASE_URL of a hosted module must carry a password that is not
# empty or a documented default such as `freightdesk`; FREIGHTDESK_CORS_ORIGINS may not be `*`; a process
# hosting auth needs FREIGHTDESK_JWT_PRIVATE_KEY_FILE, the others FREIGHTDESK_JWT_PUBLIC_KEY_FILES (generated
# development keys are refused); split mode needs FREIGHTDESK_SERVICE_SECRET. Production does not migrate on
# start: run `freightdesk db upgrade` (and `freightdesk seed`) as a deployment step, as compose/ and
# deploy/kubernetes/ do. FREIGHTDESK_ENV=development gives the laptop behaviour back.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder

# The uv that writes and reads uv.lock in this repository.
ARG UV_VERSION=0.13.9
RUN pip install --no-cache-dir "uv==${UV_VERSION}"

ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv

WORKDIR /app

# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project

COPY src ./src
COPY modules ./modules
COPY bootstrap ./bootstrap
COPY migrations ./migrations
# The project itself, installed editable: the environment points at /app, where the runtime stage puts the
# same code (bootstrap finds migrations/ beside it).
RUN uv sync --frozen --no-dev


FROM ${PYTHON_IMAGE} AS runtime

# A fixed numeric user (10001, not a name), so an orchestrator can check runAsNonRoot without resolving it;
# deploy/kubernetes/ runs the pods as this uid and gid.
RUN groupadd --system --gid 10001 freightdesk \
    && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home --shell /usr/sbin/nologin \
       freightdesk

# GLIBC_TUNABLES: password hashes on transparent huge pages (bootstrap/entry.py; `freightdesk run` would otherwise
# start itself again to set it).
ENV PATH="/app/.venv/bin:${PATH}" \
    GLIBC_TUNABLES=glibc.malloc.hugetlb=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    FREIGHTDESK_ENV=production \
    FREIGHTDESK_DATA_DIR=/app/var \
    FREIGHTDESK_LOG_FORMAT=json \
    PORT=8000

WORKDIR /app

# Owned by root and read-only to the application user: the process can change nothing but its data dir.
COPY --from=builder /app/.venv ./.venv
COPY --from=builder /app/pyproject.toml /app/README.md ./
COPY --from=builder /app/src ./src
COPY --from=builder /app/modules ./modules
COPY --from=builder /app/bootstrap ./bootstrap
COPY --from=builder /app/migrations ./migrations
RUN python -m compileall -q src modules bootstrap migrations

# The data dir, and the mount points of the token signing keys in it, exist in the image owned by the
# application user, so an empty named volume mounted there starts writable for it (compose/).
RUN mkdir -p /app/var/keys /app/var/public-keys \
    && chown -R 10001:10001 /app/var \
    && chmod 0750 /app/var /app/var/keys

USER 10001:10001

EXPOSE 8000

# Liveness (no I/O in the process): the image has no curl, its Python has urllib.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8000') + '/api/v1/health/live', timeout=4)"]

# `exec` so the server is PID 1 and gets SIGTERM itself (a graceful stop drains requests and relays).
CMD exec freightdesk run --host 0.0.0.0 --port "${PORT:-8000}"
