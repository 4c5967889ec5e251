#!/usr/bin/env bash
# Every check and test: lint, types, the layering (lint-imports), the policy catalogue with its
# cases, and pytest (database tests run on SQLite and on PostgreSQL at
# POLICY_MATCH_TEST_POSTGRES_URL).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check service tests bench migrations/env.py
.venv/bin/mypy service tests bench
.venv/bin/lint-imports
.venv/bin/policy-match check
.venv/bin/pytest "$@"
