# Freightdesk: one image for every topology. Which modules a container hosts is configuration
# (FREIGHTDESK_MODULES), not a different build. See compose/ for the single-process and split stacks.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_LINK_MODE=copy \
    UV_PROJECT_ENVIRONMENT=/app/.venv

RUN pip install --no-cache-dir uv

WORKDIR /app

# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project

COPY src ./src
COPY modules ./modules
COPY bootstrap ./bootstrap
COPY migrations ./migrations
RUN uv sync --frozen --no-dev

ENV PATH="/app/.venv/bin:$PATH" \
    FREIGHTDESK_DATA_DIR=/app/var
# The data dir (and keys/ in it) exists in the image so named volumes mounted there start writable.
RUN useradd --system --home-dir /app freightdesk && mkdir -p /app/var/keys && chown -R freightdesk /app/var
USER freightdesk

EXPOSE 8000
CMD ["freightdesk", "run", "--host", "0.0.0.0"]
