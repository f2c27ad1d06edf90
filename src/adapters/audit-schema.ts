/**
 * The SQLite layout of the audit store. `audit_records` is the evidence; `audit_runs` and
 * `audit_protection` are summaries kept in the same transaction as each append so listing stays
 * fast over years of records, and `verify` rebuilds them to show they still match.
 *
 * The triggers stop UPDATE and DELETE from code or a person at a sqlite3 prompt by mistake. They are
 * not a defence: whoever can write the file can drop them. The hash chain is what shows tampering.
 */
export const SCHEMA_VERSION = 1;

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS audit_records (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  workflow_id TEXT NOT NULL,
  run_id TEXT,
  site TEXT NOT NULL,
  kind TEXT NOT NULL,
  type TEXT NOT NULL,
  at TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  actor TEXT,
  outcome TEXT,
  data TEXT,
  recorded_at TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS audit_records_workflow ON audit_records (workflow_id, seq);

CREATE TABLE IF NOT EXISTS audit_runs (
  workflow_id TEXT PRIMARY KEY,
  run_id TEXT,
  site TEXT NOT NULL,
  kind TEXT NOT NULL,
  started TEXT NOT NULL,
  started_ms INTEGER NOT NULL,
  ended TEXT,
  outcome TEXT,
  sha256 TEXT,
  last_seq INTEGER NOT NULL,
  last_type TEXT NOT NULL,
  last_at TEXT NOT NULL,
  events INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS audit_runs_started ON audit_runs (started_ms);
CREATE INDEX IF NOT EXISTS audit_runs_site ON audit_runs (site, started_ms);
CREATE INDEX IF NOT EXISTS audit_runs_open ON audit_runs (workflow_id) WHERE ended IS NULL;

CREATE TABLE IF NOT EXISTS audit_protection (
  site TEXT PRIMARY KEY,
  seq INTEGER NOT NULL,
  at_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS audit_head (
  one INTEGER PRIMARY KEY CHECK (one = 1),
  seq INTEGER NOT NULL,
  hash TEXT NOT NULL
) STRICT;

CREATE TRIGGER IF NOT EXISTS audit_records_no_update BEFORE UPDATE ON audit_records
BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_records_no_delete BEFORE DELETE ON audit_records
BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
`;

export interface RecordRow {
  seq: number;
  id: string;
  workflow_id: string;
  run_id: string | null;
  site: string;
  kind: string;
  type: string;
  at: string;
  at_ms: number;
  actor: string | null;
  outcome: string | null;
  data: string | null;
  recorded_at: string;
  prev_hash: string;
  hash: string;
}

export interface RunRow {
  workflow_id: string;
  run_id: string | null;
  site: string;
  kind: string;
  started: string;
  started_ms: number;
  ended: string | null;
  outcome: string | null;
  sha256: string | null;
  last_seq: number;
  last_type: string;
  last_at: string;
  events: number;
}
