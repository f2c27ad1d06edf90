/** Deps for the operator pages with a mismatch, a failed run, a rollout, protection history, schedules and a sheet. */
import { courierSheet } from '../../src/domain/courier-sheet';
import type { ScheduleStatus } from '../../src/domain/cron-words';
import { noAuth } from '../../src/web/auth';
import type { RunDetail, WebDeps } from '../../src/web/deps';
import { KEYS, NOW, RecordingGateway, SHA } from './support';

const H = 3_600_000;
const DAY = 86_400_000;

export const CYCLE: RunDetail = {
  workflowId: 'cycle-demo-1',
  site: 'demo',
  kind: 'cycle',
  title: 'cycle cycle-demo-1',
  state: 'awaiting-transfer',
  startedAt: NOW - 26 * H,
  problem: "relay ag-win: mismatch — the copy's SHA-256 differs from the bundle",
  relays: [
    { name: 'ag-linux', os: 'linux', status: 'verified' },
    { name: 'ag-win', os: 'windows', status: 'mismatch', problem: "the copy's SHA-256 differs from the bundle" },
  ],
  hasSheet: true,
  events: [{ at: NOW - 26 * H, kind: 'started', text: 'by the schedule' }],
};

export const FAILED: RunDetail = {
  workflowId: 'rules-demo-2',
  site: 'demo',
  kind: 'rules',
  title: 'rules rules-demo-2',
  state: 'failed: import refused',
  startedAt: NOW - 50 * H,
  endedAt: NOW - 47 * H - 30 * 60_000,
  problem: 'failed: import refused',
  events: [],
};

export const ROLLOUT: RunDetail = {
  workflowId: 'upgrade-demo-3',
  site: 'demo',
  kind: 'upgrade',
  title: 'rollout upgrade-demo-3',
  state: 'awaiting-upgrade',
  startedAt: NOW - 3 * DAY,
  events: [],
  rollout: {
    stages: [
      {
        id: 'U1',
        title: 'DMZ Manager (+ database)',
        status: 'verified',
        target: '20.0.1',
        before: '20.0.0',
        after: '20.0.1',
      },
      { id: 'U2', title: 'DMZ Relay', status: 'verified', target: '20.0.2', before: '20.0.1', after: '20.0.2' },
      {
        id: 'U3',
        title: 'air-gapped Manager (+ database)',
        status: 'failed',
        target: '20.0.1',
        before: '20.0.0',
        failure: 'precheck: disk full',
      },
      { id: 'U4', title: 'air-gapped Relay(s)', status: 'pending', target: '20.0.2' },
      { id: 'U5', title: 'air-gapped Agents', status: 'pending', target: '20.0.3' },
    ],
    agents: { total: 40, verified: 10, failed: 2, inFlight: 4, wavesDone: 2 },
  },
};

export const SCHEDULES: ScheduleStatus[] = [
  {
    site: 'demo',
    scheduleId: 'airgap-cycle-demo',
    cron: '0 6 * * 2',
    timezone: 'Europe/Berlin',
    paused: false,
    nextRuns: [NOW + 6 * DAY + 3 * H],
    recent: [{ scheduledAt: NOW - DAY, takenAt: NOW - DAY, workflowId: 'cycle-demo-1', outcome: 'failed' }],
    missedCatchupWindow: 1,
    skippedOverlap: 0,
  },
];

export const SHEET = courierSheet({
  workflowId: 'cycle-demo-1',
  site: 'demo',
  siteName: 'Demo plant',
  bundle: {
    fileName: 'ds-updates-20261125.zip',
    path: '/var/opt/ds_agent/relay/ds-updates-20261125.zip',
    size: 52_428_800,
    sha256: SHA,
  },
  dmzRelay: { name: 'dmz-relay', os: 'linux' },
  relays: [
    { name: 'ag-linux', os: 'linux', targetFolder: '/var/opt/ds_agent/relay', status: 'verified' },
    { name: 'ag-win', os: 'windows', targetFolder: 'C:\\ProgramData\\Trend Micro\\Relay', status: 'mismatch' },
  ],
  deadline: NOW + 2 * DAY,
  operators: ['operator@demo.example'],
  escalation: ['lead@demo.example'],
});

const RUNS = [CYCLE, FAILED, ROLLOUT];

export function insightDeps(overrides: Partial<WebDeps> = {}): WebDeps {
  return {
    actions: new RecordingGateway(),
    keys: KEYS,
    auth: noAuth(),
    now: () => NOW,
    sites: [{ id: 'demo', name: 'Demo plant' }],
    temporalUi: { url: 'http://127.0.0.1:8233', namespace: 'airgap' },
    overview: {
      overview: async () => ({
        runs: [CYCLE, ROLLOUT].map((r) => ({
          workflowId: r.workflowId,
          site: r.site,
          kind: r.kind,
          title: r.title,
          state: r.state,
          startedAt: r.startedAt,
          ...(r.problem ? { problem: r.problem } : {}),
        })),
        notices: [{ level: 'warning', site: 'demo', text: 'site demo: last successful import 9d ago (threshold 8d)' }],
      }),
    },
    runs: { run: async (id) => RUNS.find((r) => r.workflowId === id) },
    history: {
      search: async () => ({
        entries: [FAILED].map((r) => ({
          workflowId: r.workflowId,
          site: r.site,
          kind: r.kind,
          title: r.title,
          outcome: 'failed',
          startedAt: r.startedAt,
          endedAt: r.endedAt!,
        })),
      }),
    },
    protection: {
      histories: async (_days, site) =>
        [
          {
            site: 'demo',
            name: 'Demo plant',
            thresholdMs: 8 * DAY,
            imports: [NOW - 100 * DAY, NOW - 60 * DAY, NOW - 30 * DAY, NOW - 9 * DAY],
          },
        ].filter((h) => site === undefined || h.site === site),
    },
    schedules: { list: async () => SCHEDULES },
    sheets: { sheet: async (id) => (id === SHEET.workflowId ? SHEET : undefined) },
    ...overrides,
  };
}
