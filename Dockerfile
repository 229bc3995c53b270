# gatehound: one image for every role (worker, ops centre, simulator, CLI).
#   docker build -t gatehound .
#   docker run --rm gatehound --help
# deploy/compose.yaml builds and runs it; deploy/README.md says how to operate it.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG HTMX_VERSION=2.0.4

# htmx for the ops centre, from the npm registry (scripts/fetch-htmx.sh needs npm).
FROM node:20-bookworm-slim AS htmx
ARG HTMX_VERSION
WORKDIR /build
COPY scripts/fetch-htmx.sh scripts/fetch-htmx.sh
RUN bash scripts/fetch-htmx.sh "${HTMX_VERSION}" "/out/htmx-${HTMX_VERSION}.min.js"

# The package and its dependencies in a virtual environment.
FROM ${PYTHON_IMAGE} AS build
ARG HTMX_VERSION
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/gatehound
WORKDIR /app
COPY pyproject.toml README.md ./
COPY engine engine
COPY models models
COPY rules rules
COPY schemas schemas
COPY scripts/build_native.py scripts/build_native.py
COPY --from=htmx /out/ engine/ops/static/vendor/
# A C compiler for the screening hot path (mypyc); only this stage has it.
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
# Installed in place (editable) so the ops centre's templates and static files are read
# from /app, where they are, whatever the package data lists; /app and the venv are
# copied to the same paths below.
RUN /opt/gatehound/bin/pip install -e '.[native]' \
    && /opt/gatehound/bin/python scripts/build_native.py \
    && /opt/gatehound/bin/python -c "import engine.screen as s; assert s.NATIVE == 'used', s.NATIVE" \
    && /opt/gatehound/bin/python -m compileall -q engine models rules schemas \
    && /opt/gatehound/bin/python -c "import engine.cli, schemas, rules, models" \
    && test -s "engine/ops/static/vendor/htmx-${HTMX_VERSION}.min.js"

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="gatehound" \
      org.opencontainers.image.description="Streaming risk engine for border targeting on Kafka" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/gatehound/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    GATEHOUND_WORKER__DATA_DIR=/var/lib/gatehound
RUN groupadd --system --gid 10001 gatehound \
    && useradd --system --uid 10001 --gid gatehound --home-dir /var/lib/gatehound --shell /usr/sbin/nologin gatehound \
    && install -d -o gatehound -g gatehound -m 0750 /var/lib/gatehound
COPY --from=build /opt/gatehound /opt/gatehound
COPY --from=build /app /app
WORKDIR /var/lib/gatehound
USER 10001:10001

# Workers serve /metrics on 9464, the ops centre its pages, /metrics and /healthz on 8080.
EXPOSE 9464 8080
# One check for every role: HEALTHCHECK_URL says what to fetch (deploy/compose.yaml sets
# it per service); by default a worker's /metrics. Any answer under 400 is healthy.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(os.environ.get('HEALTHCHECK_URL', 'http://127.0.0.1:9464/metrics'), timeout=4)"]

ENTRYPOINT ["gatehound"]
CMD ["--help"]
