# policy-match: multi-stage (build a virtual environment, then run it as a non-root user).
# Not built on the development machines: no Docker engine runs there (README, "Packaging").
# tests/test_packaging.py runs this file's CMD, and compose.yaml's worker, outside a container.
# Where the base image and the Python packages come from are build arguments, so that a mirror
# reachable from the mainland or the intranet can stand in (docs/operations.md, "Packaging"):
#   docker build -t policy-match --build-arg BASE_IMAGE=<registry>/library/python:3.11-slim
#                --build-arg PIP_INDEX_URL=https://<mirror>/simple .
ARG BASE_IMAGE=python:3.11-slim
ARG PIP_INDEX_URL=https://pypi.org/simple

FROM ${BASE_IMAGE} AS build
ARG PIP_INDEX_URL
WORKDIR /app
RUN python -m venv /venv
COPY pyproject.toml constraints.txt README.md ./
COPY service ./service
# Editable: the code stays in /app beside alembic.ini, migrations/ and policies/, which the
# service finds from its own folder (service.core.settings.PROJECT_ROOT).
RUN /venv/bin/pip install --no-cache-dir --index-url "${PIP_INDEX_URL}" -c constraints.txt -e .

FROM ${BASE_IMAGE}
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin policy-match
WORKDIR /app
COPY --from=build /venv /venv
COPY --from=build /app /app
COPY alembic.ini ./
COPY migrations ./migrations
COPY policies ./policies
ENV PATH=/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PORT=8000 \
    POLICY_MATCH_ENVIRONMENT=production \
    POLICY_MATCH_POLICIES_DIR=/app/policies \
    POLICY_MATCH_ENABLE_TOKEN_ENDPOINT=false
USER 10001
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('PORT', '8000')}/readyz\", timeout=3)"]
# Refuse a broken catalogue before touching the database, migrate, then exec uvicorn (PID 1
# gets SIGTERM and drains; JSON logs on stdout carry their own access line).
CMD ["policy-match", "serve", "--host", "0.0.0.0"]
