#!/usr/bin/env bash
# Create (or update) the Marquez role and database in an existing PostgreSQL, idempotently.
# Connects as a superuser with the usual libpq variables (PGHOST, PGPORT, PGUSER, PGPASSWORD...).
# Takes the role's password from FLOE_MARQUEZ_DB_PASSWORD (read by psql's \getenv, so it never
# appears on a command line). Role and database names: FLOE_MARQUEZ_DB_USER / FLOE_MARQUEZ_DB_NAME
# (default marquez / marquez).
set -euo pipefail
: "${FLOE_MARQUEZ_DB_PASSWORD:?set FLOE_MARQUEZ_DB_PASSWORD}"
export FLOE_MARQUEZ_DB_PASSWORD
role="${FLOE_MARQUEZ_DB_USER:-marquez}"
db="${FLOE_MARQUEZ_DB_NAME:-marquez}"
PSQL="${PSQL:-psql}"

"$PSQL" -v ON_ERROR_STOP=1 -X -q -d postgres -v role="$role" -v db="$db" <<'SQL'
\getenv pw FLOE_MARQUEZ_DB_PASSWORD
SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') AS need_role \gset
\if :need_role
  CREATE ROLE :"role" LOGIN PASSWORD :'pw';
\else
  ALTER ROLE :"role" LOGIN PASSWORD :'pw';
\endif
SELECT NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') AS need_db \gset
\if :need_db
  CREATE DATABASE :"db" OWNER :"role";
\endif
SQL
echo "role '$role' and database '$db' ready" >&2
