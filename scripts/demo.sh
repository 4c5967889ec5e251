#!/usr/bin/env bash
# Set up, migrate a SQLite database, load synthetic demo enterprises, and serve with Swagger UI.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export POLICY_MATCH_ENVIRONMENT=development
export POLICY_MATCH_DATABASE_URL=${POLICY_MATCH_DATABASE_URL:-sqlite:///./policy_match.db}
export POLICY_MATCH_JWT_SECRET=${POLICY_MATCH_JWT_SECRET:-demo-only-$(.venv/bin/python -c 'import secrets; print(secrets.token_hex(16))')}
# the demo may push to a receiver on this machine (a deployment leaves this false)
export POLICY_MATCH_PUSH_ALLOW_INTERNAL_TARGETS=${POLICY_MATCH_PUSH_ALLOW_INTERNAL_TARGETS:-true}
export POLICY_MATCH_AUTH_CLIENTS=${POLICY_MATCH_AUTH_CLIENTS:-$(.venv/bin/policy-match demo-clients)}
.venv/bin/policy-match check
.venv/bin/alembic upgrade head
.venv/bin/policy-match demo-data --count 3000 --output demo-enterprises.jsonl
.venv/bin/policy-match import demo-enterprises.jsonl --synthetic --changed-by demo-data
cat <<TXT

policy-match is starting on http://127.0.0.1:8000  (Swagger UI: http://127.0.0.1:8000/docs)
Demo clients for the Authorize button (client credentials; development only):
  demo-platform / demo-platform-secret-0001   scopes: match enterprises:read enterprises:write push
  demo-bank-1   / demo-bank-secret-0001       scopes: eligibility:read  (bank_id bank-demo-1)
  demo-admin    / demo-admin-secret-0001      scopes: catalogue:admin
  demo-auditor  / demo-auditor-secret-0001    scopes: audit:read  (who was told what)
  demo-stats    / demo-stats-secret-0001      scopes: stats:read  (the plan's targets: GET /v1/plan/progress)
A push worker runs inside the service: POST /v1/subscriptions (demo-platform) to receive events.
TXT
# logs are JSON lines on stdout (request ids, the decision log); migrated above already
exec .venv/bin/policy-match serve --host 127.0.0.1 --port 8000 --no-migrate
