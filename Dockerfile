# Unrolled: the simulator and its API in one small image.
# Mirrors the README's serve command: pinned runtime dependencies, then `unrolled serve`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UNROLLED_HOST=0.0.0.0 \
    UNROLLED_PORT=8000 \
    UNROLLED_WORKERS=1 \
    UNROLLED_DATA_DIR=/data

# Fonts for the pictures' PNG downloads (resvg draws text with the system's fonts); the distribution's current
# version, which follows the base image.
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core && rm -rf /var/lib/apt/lists/*

WORKDIR /srv/unrolled
COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock

COPY pyproject.toml README.md ./
COPY core ./core
COPY app ./app
COPY templates ./templates
COPY static ./static
COPY presets ./presets
# The recipes page (/api/recipes) renders docs/recipes.md when first asked for
COPY docs/recipes.md ./docs/recipes.md
RUN pip install --no-cache-dir --no-deps -e . \
    && useradd --create-home --uid 10001 unrolled \
    && mkdir -p /data && chown unrolled /data

USER 10001
EXPOSE 8000
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/api/v1/health' % os.environ.get('UNROLLED_PORT', '8000'), timeout=4)"]
CMD ["unrolled", "serve"]
