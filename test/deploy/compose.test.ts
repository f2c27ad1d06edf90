/**
 * There is no Docker engine on the machines this project is built on, so the compose stack is
 * never started here. This test holds its structure to what a deployment needs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../../src/runtime/load-config';

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
});
