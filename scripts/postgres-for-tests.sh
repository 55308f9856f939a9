#!/usr/bin/env bash
# Start a local PostgreSQL for the test suite (Debian, as root) and print its URL.
# Used by `make test-postgres`; the normal suite runs on SQLite and needs none of this.
set -euo pipefail
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi
version=$(ls /usr/lib/postgresql | sort -n | tail -n 1)
pg_lsclusters --no-header | grep -q "^$version main" || pg_createcluster "$version" main >&2
pg_ctlcluster "$version" main start >&2 2>/dev/null || true
for _ in $(seq 1 30); do
  runuser -u postgres -- pg_isready -q && break
  sleep 0.5
done
runuser -u postgres -- psql -qtAc "SELECT 1 FROM pg_roles WHERE rolname='clipmill'" | grep -q 1 \
  || runuser -u postgres -- psql -qc "CREATE USER clipmill PASSWORD 'clipmill' CREATEDB" >&2
runuser -u postgres -- psql -qtAc "SELECT 1 FROM pg_database WHERE datname='clipmill_test'" | grep -q 1 \
  || runuser -u postgres -- psql -qc "CREATE DATABASE clipmill_test OWNER clipmill" >&2
echo "postgresql+psycopg://clipmill:clipmill@127.0.0.1/clipmill_test"
