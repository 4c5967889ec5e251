# Multi-stage: build a virtual environment, then run it as a non-root user.
# Not built on the development machines (no Docker engine runs there); see README "Packaging".
FROM python:3.11-slim AS build
WORKDIR /app
RUN python -m venv /venv
COPY pyproject.toml constraints.txt README.md ./
COPY service ./service
RUN /venv/bin/pip install --no-cache-dir -c constraints.txt .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home /app policy-match
WORKDIR /app
COPY --from=build /venv /venv
COPY alembic.ini ./
COPY migrations ./migrations
COPY policies ./policies
ENV PATH=/venv/bin:$PATH \
    POLICY_MATCH_ENVIRONMENT=production \
    POLICY_MATCH_POLICIES_DIR=/app/policies \
    POLICY_MATCH_ENABLE_TOKEN_ENDPOINT=false
USER policy-match
EXPOSE 8000
# Refuse a broken catalogue before touching the database, migrate, then serve.
CMD ["sh", "-c", "policy-match check && alembic upgrade head && exec uvicorn service.main:app --host 0.0.0.0 --port 8000 --proxy-headers"]
