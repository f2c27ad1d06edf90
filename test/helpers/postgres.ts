/**
 * A throw-away PostgreSQL cluster from Debian's `postgresql` package: `initdb` into a temporary
 * folder, `pg_ctl start` on a free port on 127.0.0.1, removed by `remove()`. PostgreSQL refuses to
 * run as root, so under root the binaries run as `nobody` and the folder belongs to it.
 * No mock: the tests talk to a real server with `pg` and tamper with it through `psql`.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/runtime/dev-server';

export { freePort };

/** Debian puts the server binaries in /usr/lib/postgresql/<major>/bin (only psql is on PATH). */
export function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  const majors = fs.existsSync(root)
    ? fs
        .readdirSync(root)
        .filter((d) => fs.existsSync(path.join(root, d, 'bin', 'pg_ctl')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (majors.length === 0) {
    throw new Error('PostgreSQL is not installed: apt-get install postgresql (.ci/run does) for initdb and pg_ctl');
  }
  return path.join(root, majors[0]!, 'bin');
}

export interface PostgresCluster {
  port: number;
  /** postgres://airgap_audit:…@127.0.0.1:<port>/airgap_audit: the audit's own role and database. */
  url: string;
  /** Runs SQL through the psql binary as the superuser, in the audit database (or `database`); returns stdout. */
  psql(sql: string, database?: string): string;
  /** A new empty database owned by the audit role, so each test starts from nothing: its URL and name. */
  createDatabase(): { url: string; name: string };
  stop(): void;
  start(): void;
  remove(): void;
}

const ROLE = 'airgap_audit';
const PASSWORD = 'audit-test-password';

/**
 * `withAuditRole: false` leaves the cluster bare (a test that creates the role itself); `durable`
 * keeps fsync and synchronous commit on (benchmarks), which tests turn off for speed.
 */
export async function startPostgres(
  options: { withAuditRole?: boolean; durable?: boolean } = {},
): Promise<PostgresCluster> {
  const bin = postgresBinDir();
  const asRoot = process.getuid?.() === 0;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airgap-pg-'));
  const data = path.join(dir, 'data');
  const port = await freePort();
  if (asRoot) {
    fs.chmodSync(dir, 0o755);
    execFileSync('chown', ['nobody:', dir]);
  }
  // As `nobody` under root: runuser keeps our environment out (no HOME), so cd into the folder.
  const run = (file: string, args: string[]): string => {
    const command = asRoot ? 'runuser' : file;
    const argv = asRoot ? ['-u', 'nobody', '--', file, ...args] : args;
    return execFileSync(command, argv, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  };
  run(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--locale=C', '-E', 'UTF8']);
  const pgCtl = (args: string[]) => run(path.join(bin, 'pg_ctl'), ['-D', data, ...args]);
  const start = () => {
    pgCtl([
      '-w',
      '-l',
      path.join(dir, 'server.log'),
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1${options.durable ? '' : ' -c fsync=off -c synchronous_commit=off'}`,
      'start',
    ]);
  };
  start();
  const psqlAs = (database: string, sql: string): string =>
    execFileSync(
      'psql',
      [
        '-h',
        '127.0.0.1',
        '-p',
        String(port),
        '-U',
        'postgres',
        '-d',
        database,
        '-v',
        'ON_ERROR_STOP=1',
        '-Atq',
        '-c',
        sql,
      ],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
  // Its own role and database, the role not a superuser: as docker-compose.yml sets it up.
  if (options.withAuditRole !== false) {
    psqlAs('postgres', `CREATE ROLE ${ROLE} LOGIN PASSWORD '${PASSWORD}'`);
    psqlAs('postgres', `CREATE DATABASE ${ROLE} OWNER ${ROLE}`);
  }
  let removed = false;
  let databases = 0;
  return {
    port,
    url: `postgres://${ROLE}:${PASSWORD}@127.0.0.1:${port}/${ROLE}`,
    psql: (sql, database = ROLE) => psqlAs(database, sql),
    createDatabase: () => {
      databases += 1;
      const name = `audit_${databases}`;
      psqlAs('postgres', `CREATE DATABASE ${name} OWNER ${ROLE}`);
      return { name, url: `postgres://${ROLE}:${PASSWORD}@127.0.0.1:${port}/${name}` };
    },
    stop: () => pgCtl(['-w', '-m', 'fast', 'stop']),
    start,
    remove: () => {
      if (removed) return;
      removed = true;
      try {
        pgCtl(['-w', '-m', 'immediate', 'stop']);
      } catch {
        // already stopped
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
