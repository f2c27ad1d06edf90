/**
 * A scheduled cycle missed for real: the site's schedule was due while Temporal itself was down
 * (the embedded default's dev server stopped, as when `airgap start` is not running) and it came
 * back only after the catch-up window had passed. Temporal then does not start the run and counts
 * it in the schedule's info (numActionsMissedCatchupWindow). The schedules page, over HTTP, and the
 * audit maintenance's notice, through a real SMTP server, say so.
 *
 * This test runs its own dev server (a SQLite file it can stop and start again), not the suite's.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { parseConfig } from '../../src/domain/config';
import { SqliteAuditStore } from '../../src/adapters/audit-store';
import { freePort, startDevServer, type DevServer } from '../../src/runtime/dev-server';
import { scheduleIdFor } from '../../src/runtime/schedules';
import { ensureNamespace } from '../../src/runtime/temporal-setup';
import { startWebServer, type RunningWeb } from '../../src/runtime/web-server';
import { startSimulator, type RunningSimulator } from '../../src/sim';
import { allRoles, createWorkerSet, type WorkerSet } from '../../src/worker';
import { TEST_NAMESPACE, testWorkflowBundlePath } from '../helpers/env';
import { testConfigDocument } from '../helpers/cycle-stack';
import { startSmtpCatcher, type SmtpCatcher } from '../helpers/smtp-catcher';
import { squash } from '../web/support';

const CATCHUP_MS = 10_000; // Temporal's smallest catch-up window

describe('a scheduled cycle missed while Temporal was down past the catch-up window', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airgap-missed-'));
  const tag = `m${randomBytes(3).toString('hex')}`;
  const scheduleId = scheduleIdFor('plant');
  let port: number;
  let server: DevServer | undefined;
  let connection: Connection | undefined;
  let workerConnection: NativeConnection | undefined;
  let workers: WorkerSet | undefined;
  let running: Promise<void> | undefined;
  let web: RunningWeb | undefined;
  let sim: RunningSimulator | undefined;
  let smtp: SmtpCatcher;
  let audit: SqliteAuditStore | undefined;

  const startServer = async () =>
    (server = await startDevServer({
      dbFile: path.join(dir, 'temporal', 'temporal.db'),
      port,
      logFile: path.join(dir, 'temporal', 'server.log'),
    }));

  beforeAll(async () => {
    port = await freePort();
    smtp = await startSmtpCatcher();
  });
  afterAll(async () => {
    workers?.shutdown();
    await running?.catch(() => undefined);
    await workerConnection?.close();
    await web?.close();
    await connection?.close();
    await server?.stop();
    await sim?.stop();
    await audit?.close();
    await smtp.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('is counted as missed, shown on the schedules page and mailed to the operators', async () => {
    await startServer();
    connection = await Connection.connect({ address: server!.address });
    await ensureNamespace(connection, TEST_NAMESPACE, 86_400_000);
    const client = new Client({ connection, namespace: TEST_NAMESPACE });

    // Due once, a few seconds from now (a calendar spec down to the second, UTC).
    const due = new Date(Math.ceil((Date.now() + 6_000) / 1000) * 1000);
    const months = [
      'JANUARY',
      'FEBRUARY',
      'MARCH',
      'APRIL',
      'MAY',
      'JUNE',
      'JULY',
      'AUGUST',
      'SEPTEMBER',
      'OCTOBER',
      'NOVEMBER',
      'DECEMBER',
    ] as const;
    await client.schedule.create({
      scheduleId,
      spec: {
        calendars: [
          {
            second: due.getUTCSeconds(),
            minute: due.getUTCMinutes(),
            hour: due.getUTCHours(),
            dayOfMonth: due.getUTCDate(),
            month: months[due.getUTCMonth()]!,
          },
        ],
        timezone: 'UTC',
      },
      action: {
        type: 'startWorkflow',
        workflowType: 'cycleWorkflow',
        workflowId: `cycle-plant-${tag}`,
        taskQueue: `${tag}-control`,
        args: [{ site: 'plant' }],
      },
      policies: { overlap: 'SKIP', catchupWindow: CATCHUP_MS },
    });
    const handle = client.schedule.getHandle(scheduleId);
    expect((await handle.describe()).info.nextActionTimes[0]?.getTime()).toBe(due.getTime());

    // Temporal goes down before the run is due and comes back after the catch-up window.
    await connection.close();
    connection = undefined;
    await server!.stop();
    const back = due.getTime() + CATCHUP_MS + 3_000;
    await new Promise((r) => setTimeout(r, back - Date.now()));
    await startServer();
    connection = await Connection.connect({ address: server!.address });
    const again = new Client({ connection, namespace: TEST_NAMESPACE });
    const after = again.schedule.getHandle(scheduleId);
    const deadline = Date.now() + 30_000;
    let described = await after.describe();
    while (described.info.numActionsMissedCatchupWindow < 1) {
      if (Date.now() > deadline) throw new Error('Temporal counted no missed run in 30 s after the restart');
      await new Promise((r) => setTimeout(r, 500));
      described = await after.describe();
    }
    expect(described.info.numActionsMissedCatchupWindow).toBe(1);
    expect(described.info.recentActions).toHaveLength(0); // the run was not started late

    // The real stack around it: the site's configuration, mail through SMTP, the web app.
    const document = await testConfigDocument(dir, tag, {
      mail: { from: 'airgap <airgap@plant.example>', smtp: { host: '127.0.0.1', port: smtp.port } },
    });
    const config = parseConfig(document, `test config ${tag}`);
    const env: NodeJS.ProcessEnv = {
      T_DMZ_KEY: `dmz-${randomBytes(12).toString('hex')}`,
      T_AG_KEY: `ag-${randomBytes(12).toString('hex')}`,
      AIRGAP_LINK_KEY: randomBytes(32).toString('hex'),
    };
    sim = await startSimulator({ config, dataDir: dir, apiKeys: env });
    audit = new SqliteAuditStore(path.join(dir, 'audit.sqlite'));

    web = await startWebServer({ config, client: again, env });
    const response = await fetch(`${web.url}/schedules`);
    expect(response.status).toBe(200);
    const page = squash(await response.text());
    expect(page).toContain(
      '<span class="badge badge-fail" title="problem: missed"><span aria-hidden="true">✗</span> missed</span> 1 run missed (outside the catch-up window)',
    );

    workerConnection = await NativeConnection.connect({ address: server!.address });
    workers = await createWorkerSet({
      config,
      connection: workerConnection,
      namespace: TEST_NAMESPACE,
      roles: { ...allRoles(config), hosts: [], zones: [] },
      env,
      workflowBundle: { codePath: testWorkflowBundlePath() },
      audit,
      client: again,
    });
    running = workers.run();
    const result = (await again.workflow.execute('auditMaintenanceWorkflow', {
      taskQueue: config.temporal.taskQueue,
      workflowId: `audit-maintenance-${tag}`,
      args: [],
    })) as { schedulesMissed?: string[] };
    expect(result.schedulesMissed).toEqual(['plant']);

    const [notice] = await smtp.waitFor('the missed-run notice', (m) =>
      (m.mail.subject ?? '').includes('missed or skipped'),
    );
    expect(notice!.envelopeTo).toEqual(['operator@plant.example']);
    expect(notice!.workflowId).toBe('audit-maintenance');
    expect(notice!.mail.text).toContain(
      'The cycle schedule of site plant (every Tuesday at 06:00 UTC) did not start every run: 1 run missed (outside the catch-up window).',
    );
    expect(notice!.mail.text).toContain('airgap schedule trigger plant --by <you>');
  }, 120_000);
});
