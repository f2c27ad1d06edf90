/**
 * There is no Docker engine on the machines this project is built on, so the compose stack is
 * never started here. This test holds its structure to what a deployment needs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { parse } from 'yaml';
import { loadConfig } from '../../src/runtime/load-config';
import { PostgresAuditStore } from '../../src/adapters/audit-store-postgres';
import { startPostgres } from '../helpers/postgres';

const root = path.resolve(__dirname, '..', '..');
type Service = {
  image?: string;
  build?: unknown;
  command?: string[];
  ports?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test: unknown };
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
};
const compose = parse(fs.readFileSync(path.join(root, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, Service>;
};
const services = compose.services;

describe('the docker-compose stack', () => {
  it('has Temporal on PostgreSQL, the Temporal UI, a mail catcher, and the project worker and web app', () => {
    expect(Object.keys(services).sort()).toEqual(
      ['mailpit', 'postgresql', 'setup', 'temporal', 'temporal-ui', 'web', 'worker'].sort(),
    );
    expect(services.temporal!.environment!.DB).toBe('postgres12');
    expect(services.temporal!.environment!.POSTGRES_SEEDS).toBe('postgresql');
  });

  it('pins every third-party image to a version and takes Temporal images from the official temporalio namespace', () => {
    for (const [name, service] of Object.entries(services)) {
      if (service.build) continue;
      expect(service.image).toMatch(/^[\w./-]+:[\w.-]+$/);
      expect(service.image).not.toMatch(/:latest$/);
      if (name.startsWith('temporal')) expect(service.image).toMatch(/^temporalio\//);
    }
  });

  it('builds the worker and web app from the Dockerfile and runs the airgap commands', () => {
    expect(fs.existsSync(path.join(root, 'Dockerfile'))).toBe(true);
    expect(services.worker!.build).toBe('.');
    expect(services.web!.build).toBe('.');
    expect(services.worker!.command![0]).toBe('worker');
    expect(services.web!.command).toEqual(['web']);
    expect(fs.readFileSync(path.join(root, 'Dockerfile'), 'utf8')).toMatch(/ENTRYPOINT \["node", "bin\/airgap\.js"\]/);
  });

  it('publishes the ports an operator uses: Temporal gRPC, Temporal UI, web app, mail UI', () => {
    const ports = Object.values(services).flatMap((s) => s.ports ?? []);
    for (const published of ['7233:7233', '8233:8080', '8080:8080', '8025:8025']) expect(ports).toContain(published);
  });

  it('gives the app the environment it needs, with secrets required from the environment and never written in', () => {
    for (const name of ['worker', 'web', 'setup']) {
      const env = services[name]!.environment!;
      expect(env.TEMPORAL_ADDRESS).toBe('temporal:7233');
      expect(env.TEMPORAL_NAMESPACE).toBe('airgap');
      expect(env.AIRGAP_CONFIG).toBe('/etc/airgap/config.yaml');
      expect(env.AIRGAP_LINK_KEY).toMatch(/^\$\{AIRGAP_LINK_KEY:\?/);
    }
    expect(services.postgresql!.environment!.POSTGRES_PASSWORD).toMatch(/^\$\{POSTGRES_PASSWORD:\?/);
  });

  it('has health checks on the stateful and serving services, and starts the app only on a healthy Temporal', () => {
    for (const name of ['postgresql', 'temporal', 'web', 'worker', 'mailpit']) {
      expect(services[name]!.healthcheck?.test).toBeDefined();
    }
    expect(services.temporal!.depends_on!.postgresql!.condition).toBe('service_healthy');
    for (const name of ['worker', 'web']) {
      expect(services[name]!.depends_on!.temporal!.condition).toBe('service_healthy');
      expect(services[name]!.depends_on!.setup!.condition).toBe('service_completed_successfully');
    }
  });

  it('mounts a configuration that the application accepts', () => {
    const mount = services.worker!.volumes!.find((v) => v.endsWith(':/etc/airgap/config.yaml:ro'))!;
    const file = path.join(root, mount.split(':')[0]!);
    const { config } = loadConfig(file);
    expect(config.mail.smtp?.host).toBe('mailpit');
    expect(config.web.auth.mode).toBe('shared-secret');
  });

  it('keeps the audit in PostgreSQL, its own role and database, and shares no data volume between worker and web', () => {
    const mount = services.worker!.volumes!.find((v) => v.endsWith(':/etc/airgap/config.yaml:ro'))!;
    const { config } = loadConfig(path.join(root, mount.split(':')[0]!));
    expect(config.audit.store).toBe('postgres');
    const urlEnv = config.audit.postgres.urlEnv;
    for (const name of ['worker', 'web', 'setup']) {
      const url = services[name]!.environment![urlEnv]!;
      expect(url).toMatch(
        /^postgres:\/\/airgap_audit:\$\{AIRGAP_AUDIT_DB_PASSWORD:\?[^}]+\}@postgresql:5432\/airgap_audit$/,
      );
    }
    for (const name of ['worker', 'web']) {
      expect(services[name]!.depends_on!.postgresql!.condition).toBe('service_healthy');
    }
    const writable = (name: string) => (services[name]!.volumes ?? []).filter((v) => !v.endsWith(':ro'));
    const named = (v: string) => v.split(':')[0]!;
    const shared = writable('worker').filter((v) => writable('web').some((w) => named(w) === named(v)));
    expect(shared).toEqual([]);
    expect(services.postgresql!.volumes).toContain('./deploy/compose/postgres-init:/docker-entrypoint-initdb.d:ro');
  });

  it('creates the audit role and database with its init script, in which the audit store can create its schema', async () => {
    const cluster = await startPostgres({ withAuditRole: false });
    try {
      const script = path.join(root, 'deploy', 'compose', 'postgres-init', '10-airgap-audit.sh');
      execFileSync('sh', [script], {
        env: {
          PATH: process.env.PATH,
          PGHOST: '127.0.0.1',
          PGPORT: String(cluster.port),
          POSTGRES_USER: 'postgres',
          AIRGAP_AUDIT_DB_PASSWORD: 'compose-test-pw',
        },
        stdio: 'pipe',
      });
      const url = services.worker!.environment!.AIRGAP_AUDIT_DATABASE_URL!.replace(
        /\$\{AIRGAP_AUDIT_DB_PASSWORD:\?[^}]+\}@postgresql:5432/,
        `compose-test-pw@127.0.0.1:${cluster.port}`,
      );
      const store = await PostgresAuditStore.open({ url });
      try {
        await store.append({
          id: 'compose-1',
          workflowId: 'cycle-plant1-1',
          site: 'plant1',
          kind: 'cycle',
          type: 'cycle.started',
          at: '2025-05-06T06:00:00Z',
        });
        expect(await store.verify()).toMatchObject({ ok: true, count: 1 });
      } finally {
        await store.close();
      }
      // Not a superuser, and the only one (besides the superuser) who may connect to its database.
      expect(cluster.psql(`SELECT rolsuper FROM pg_roles WHERE rolname = 'airgap_audit'`, 'postgres').trim()).toBe('f');
    } finally {
      cluster.remove();
    }
  }, 60_000);
});
