#!/bin/sh
# Runs once, when the postgresql service initialises its data volume (docker-entrypoint-initdb.d):
# the audit gets its own role and database, apart from Temporal's. The role owns only its
# database: the airgap worker and web app log in as it (AIRGAP_AUDIT_DATABASE_URL) and create
# the audit schema on first start.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v password="$AIRGAP_AUDIT_DB_PASSWORD" <<'SQL'
CREATE ROLE airgap_audit LOGIN PASSWORD :'password';
CREATE DATABASE airgap_audit OWNER airgap_audit;
REVOKE ALL ON DATABASE airgap_audit FROM PUBLIC;
SQL
