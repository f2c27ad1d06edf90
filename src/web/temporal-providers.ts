/**
 * The dashboard's data: open runs from Temporal (visibility + each run's state Query), past runs
 * and timelines from the audit store (which outlives Temporal's retention), protection-age
 * notices per site.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { AuditStore } from '../adapters/audit-store';
import { OPEN_OUTCOME, type AuditRecord } from '../domain/audit';
import { findSite, type AppConfig } from '../domain/config';
import { courierSheet } from '../domain/courier-sheet';
import { describeSiteSchedules } from '../adapters/schedule-status';
import { withinQueryDeadline } from './query-deadline';
import { formatDuration } from '../domain/duration';
import { cycleStateQuery, runStateQuery, type CycleView, type RunState } from '../workflows/cycle-messages';
import { upgradeStateQuery, type UpgradeView } from '../workflows/upgrade-messages';
import type {
  CourierSheetProvider,
  HistoryProvider,
  Notice,
  OpenRun,
  OverviewProvider,
  ProtectionProvider,
  RunDetail,
  RunProvider,
  ScheduleProvider,
  Waiting,
} from './deps';

const ms = (iso: string | undefined) => (iso ? Date.parse(iso) : undefined);

/** An audit record in one line for the run page (its type is shown beside): outcome and facts. */
function recordText(r: AuditRecord): string {
  const facts = ['relay', 'step', 'status', 'message', 'reason', 'comment', 'action']
    .map((k) => r.data?.[k])
    .filter((v): v is string => typeof v === 'string' && v !== '');
  const said = [r.outcome ? `→ ${r.outcome}` : undefined, ...facts].filter(Boolean).join(' · ');
  return said || r.type.replace(/[.-]/g, ' ');
}

function waitingOf(view: RunState): Waiting | undefined {
  if (!view.waitingFor) return undefined;
  return {
    what: view.waitingFor.what.replace(/^manual:/, 'manual step: '),
    from: view.waitingFor.from,
    since: Date.parse(view.waitingFor.since),
    until: ms(view.waitingFor.until),
  };
}

/**
 * What went wrong, in words, so it stands out: a relay whose copy does not match (the run still
 * waits, for a good copy) or a failed end with its reason.
 */
function problemOf(view: RunState & { relays?: CycleView['relays'] }): string | undefined {
  const bad = (view.relays ?? []).filter((r) => r.status === 'mismatch');
  if (bad.length > 0) {
    return bad.map((r) => `relay ${r.name}: mismatch${r.problem ? ` — ${r.problem}` : ''}`).join('; ');
  }
  const outcome = view.outcome;
  if (outcome && /^(failed|expired|rejected|aborted|terminated)/.test(outcome.state)) {
    return `${outcome.state}${outcome.reason ? `: ${outcome.reason}` : ''}`;
  }
  return undefined;
}

function detailFromView(view: CycleView): RunDetail {
  const facts = [
    ...(view.bundle
      ? [
          { label: 'File', value: view.bundle.fileName },
          { label: 'SHA-256', value: view.bundle.sha256 },
          { label: 'Size', value: `${view.bundle.size} bytes` },
          { label: 'Versions', value: view.bundle.versions.map((v) => `${v.name} ${v.version}`).join(', ') },
        ]
      : []),
    ...view.relays.map((r) => ({
      label: `Relay ${r.name}`,
      value: `${r.status}${r.problem ? ` — ${r.problem}` : ''}`,
    })),
    ...(view.approvalsRequired
      ? [
          {
            label: 'Approvals',
            value: `${view.approvals.length}/${view.approvalsRequired} ${view.approvals.map((a) => a.by).join(', ')}`,
          },
        ]
      : []),
  ];
  return {
    problem: problemOf(view),
    relays: view.relays.map((r) => ({
      name: r.name,
      os: r.os,
      status: r.status,
      ...(r.problem ? { problem: r.problem } : {}),
    })),
    hasSheet: view.bundle !== undefined,
    workflowId: view.id,
    site: view.site,
    kind: 'cycle',
    title: `cycle ${view.id}`,
    state: view.outcome?.reason ? `${view.state}: ${view.outcome.reason}` : view.state,
    startedAt: Date.parse(view.startedAt),
    endedAt: ms(view.outcome?.at),
    waiting: waitingOf(view),
    facts,
    events: view.timeline.map((e) => ({ at: Date.parse(e.at), kind: e.type, text: e.summary, actor: e.actor?.who })),
  };
}

function detailFromRunState(state: RunState): RunDetail {
  return {
    problem: problemOf(state),
    workflowId: state.id,
    site: state.site,
    kind: state.kind,
    title: `${state.kind} ${state.id}`,
    state: state.outcome?.reason ? `${state.state}: ${state.outcome.reason}` : state.state,
    startedAt: Date.parse(state.startedAt),
    endedAt: ms(state.outcome?.at),
    waiting: waitingOf(state),
    events: state.timeline.map((e) => ({ at: Date.parse(e.at), kind: e.type, text: e.summary, actor: e.actor?.who })),
  };
}

/** A rollout's page: one fact per stage (status, versions, attempts), the agents' waves, a halt. */
function detailFromRollout(view: UpgradeView): RunDetail {
  const a = view.agents;
  const facts = [
    {
      label: 'Targets',
      value: `manager ${view.targets.manager}, relays ${view.targets.relay}, agents ${view.targets.agent}`,
    },
    ...view.stages.map((s) => ({
      label: `${s.id} ${s.title}`,
      value: [
        s.status,
        `target ${s.target}`,
        s.before && `was ${s.before}`,
        s.after && `now ${s.after}`,
        s.attempts > 1 && `attempt ${s.attempts}`,
        s.mode,
        s.failure && `— ${s.failure.message}`,
      ]
        .filter(Boolean)
        .join(', '),
    })),
    ...(a.total !== undefined || a.wavesStarted > 0
      ? [
          {
            label: 'Agents',
            value:
              `${a.verified} verified, ${a.failed} below target${a.total !== undefined ? ` of ${a.total}` : ''}; ` +
              `${a.wavesDone} wave(s) done, ${a.inFlight.length} verifying`,
          },
        ]
      : []),
    ...(view.halted ? [{ label: 'Halted', value: `${view.halted.stage}: ${view.halted.options.join('; ')}` }] : []),
  ];
  return {
    ...detailFromRunState(view),
    title: `rollout ${view.id}`,
    facts,
    ...(view.halted ? { problem: `halted at ${view.halted.stage}: ${view.halted.message}` } : {}),
    rollout: {
      stages: view.stages.map((s) => ({
        id: s.id,
        title: s.title,
        status: s.status,
        target: s.target,
        ...(s.before ? { before: s.before } : {}),
        ...(s.after ? { after: s.after } : {}),
        ...(s.failure ? { failure: s.failure.message } : {}),
      })),
      agents: {
        ...(a.total !== undefined ? { total: a.total } : {}),
        verified: a.verified,
        failed: a.failed,
        inFlight: a.inFlight.length,
        wavesDone: a.wavesDone,
      },
    },
  };
}

export function createOverviewProvider(client: Client, audit: AuditStore, config: AppConfig): OverviewProvider {
  return {
    async overview() {
      const listed = [];
      for await (const w of client.workflow.list({ query: `ExecutionStatus = 'Running' AND AirgapKind IS NOT NULL` })) {
        listed.push(w);
      }
      // Asked all at once and each within the query deadline: a run whose worker is down answers no
      // query until the RPC deadline, and it must not hold up the page for the others.
      const runs: OpenRun[] = await Promise.all(
        listed.map(async (w): Promise<OpenRun> => {
          try {
            const handle = client.workflow.getHandle(w.workflowId);
            const view = await withinQueryDeadline(client, () => handle.query(runStateQuery));
            const problem = problemOf(
              view.kind === 'cycle' ? await withinQueryDeadline(client, () => handle.query(cycleStateQuery)) : view,
            );
            return {
              ...(problem ? { problem } : {}),
              workflowId: view.id,
              site: view.site,
              kind: view.kind,
              title: `${view.kind} ${view.id}`,
              state: view.state,
              startedAt: Date.parse(view.startedAt),
              waiting: waitingOf(view),
            };
          } catch {
            return {
              workflowId: w.workflowId,
              site: '?',
              kind: w.type,
              title: w.workflowId,
              state: 'unknown (no answer)',
              startedAt: w.startTime.getTime(),
            };
          }
        }),
      );
      const notices: Notice[] = [];
      const now = new Date();
      for (const site of config.sites) {
        const age = await audit.protectionAge(site.id, now);
        if (age === undefined) {
          notices.push({ level: 'warning', site: site.id, text: `site ${site.id}: no successful import recorded yet` });
        } else if (age > site.protectionAgeThreshold) {
          notices.push({
            level: 'warning',
            site: site.id,
            text: `site ${site.id}: last successful import ${formatDuration(age)} ago (threshold ${formatDuration(site.protectionAgeThreshold)})`,
          });
        } else {
          notices.push({
            level: 'info',
            site: site.id,
            text: `site ${site.id}: last successful import ${formatDuration(age)} ago`,
          });
        }
      }
      return { runs, notices };
    },
  };
}

export function createHistoryProvider(audit: AuditStore): HistoryProvider {
  return {
    async search(filter) {
      const rows = await audit.list({
        site: filter.site || undefined,
        kind: (filter.kind || undefined) as never,
        // The form says `running` for what the audit calls open (no end recorded).
        outcome: filter.outcome === 'running' ? OPEN_OUTCOME : filter.outcome || undefined,
        since: filter.from !== undefined ? new Date(filter.from) : undefined,
        until: filter.to !== undefined ? new Date(filter.to) : undefined,
      });
      const text = filter.text?.toLowerCase();
      const matching = rows.filter(
        (r) => !text || r.workflowId.toLowerCase().includes(text) || (r.sha256 ?? '').includes(text),
      );
      const offset = filter.cursor ? Number(filter.cursor) || 0 : 0;
      const page = matching.slice(offset, offset + filter.limit);
      return {
        entries: page.map((r) => ({
          workflowId: r.workflowId,
          site: r.site,
          kind: r.kind,
          title: `${r.kind} ${r.workflowId}`,
          outcome: r.outcome ?? 'running',
          startedAt: Date.parse(r.started),
          endedAt: ms(r.ended),
          summary: r.sha256 ? `bundle sha256 ${r.sha256.slice(0, 16)}…` : undefined,
        })),
        nextCursor: offset + filter.limit < matching.length ? String(offset + filter.limit) : undefined,
      };
    },
  };
}

/** A run's page: the live state while Temporal has the run, the audit timeline after. */
export function createRunProvider(client: Client, audit: AuditStore): RunProvider {
  return {
    async run(workflowId) {
      try {
        const handle = client.workflow.getHandle(workflowId);
        const state = await withinQueryDeadline(client, () => handle.query(runStateQuery));
        if (state.kind === 'cycle')
          return detailFromView(await withinQueryDeadline(client, () => handle.query(cycleStateQuery)));
        if (state.kind === 'upgrade') {
          return detailFromRollout(await withinQueryDeadline(client, () => handle.query(upgradeStateQuery)));
        }
        return detailFromRunState(state);
      } catch {
        const summary = await audit.run(workflowId);
        if (!summary) return undefined;
        const records = await audit.timeline(workflowId);
        const outcome = summary.outcome ?? 'open';
        const reason = [...records]
          .reverse()
          .map((r) => r.data?.reason ?? r.data?.message)
          .find((v): v is string => typeof v === 'string' && v !== '');
        return {
          ...(/^(failed|expired|rejected|aborted|terminated)/.test(outcome)
            ? { problem: `${outcome}${reason ? `: ${reason}` : ''}` }
            : {}),
          workflowId,
          site: summary.site,
          kind: summary.kind,
          title: `${summary.kind} ${workflowId}`,
          state: summary.outcome ?? 'open',
          startedAt: Date.parse(summary.started),
          endedAt: ms(summary.ended),
          facts: summary.sha256 ? [{ label: 'SHA-256', value: summary.sha256 }] : [],
          events: records.map((r) => ({
            at: Date.parse(r.at),
            kind: r.type,
            text: recordText(r),
            actor: r.actor?.who,
          })),
        };
      }
    },
  };
}

const DAY_MS = 86_400_000;

/**
 * Protection age over time from the audit: the completed cycles of each site (a cycle completes
 * after its import succeeded) in the window, and the newest successful import before it. Reads
 * only; uses the store's existing queries.
 */
export function createProtectionProvider(
  audit: AuditStore,
  config: AppConfig,
  now = () => Date.now(),
): ProtectionProvider {
  return {
    async histories(days, only) {
      const end = now();
      const from = end - days * DAY_MS;
      const sites = config.sites.filter((s) => only === undefined || s.id === only);
      return Promise.all(
        sites.map(async (site) => {
          // A cycle may start before the window and complete inside it: look a month further back by start.
          const recent = await audit.list({
            site: site.id,
            kind: 'cycle',
            outcome: 'completed',
            since: new Date(from - 30 * DAY_MS),
          });
          // Where the line starts: the newest completion before the window.
          const older = await audit.list({
            site: site.id,
            kind: 'cycle',
            outcome: 'completed',
            until: new Date(from - 30 * DAY_MS),
            limit: 5,
          });
          const ends = [...recent, ...older]
            .map((r) => (r.ended ? Date.parse(r.ended) : NaN))
            .filter((t) => Number.isFinite(t) && t <= end);
          const before = ends.filter((t) => t < from);
          const last = await audit.lastSuccessfulImport(site.id);
          const lastAt = last ? Date.parse(last.at) : undefined;
          const imports = [
            ...ends.filter((t) => t >= from),
            ...(before.length > 0 ? [Math.max(...before)] : []),
            ...(lastAt !== undefined && lastAt <= end ? [lastAt] : []),
          ];
          return {
            site: site.id,
            ...(site.name ? { name: site.name } : {}),
            thresholdMs: site.protectionAgeThreshold,
            imports: [...new Set(imports)].sort((x, y) => x - y),
          };
        }),
      );
    },
  };
}

export function createScheduleProvider(client: Client, config: AppConfig): ScheduleProvider {
  return { list: () => describeSiteSchedules(client, config) };
}

/** The courier sheet of a cycle: its bundle and relays from the run, folders and people from the configuration. */
export async function courierSheetOf(client: Client, config: AppConfig, workflowId: string) {
  let view: CycleView;
  try {
    view = await client.workflow.getHandle(workflowId).query(cycleStateQuery);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
  const site = findSite(config, view.site);
  if (!view.bundle || !site) return undefined;
  return courierSheet({
    workflowId: view.id,
    site: site.id,
    ...(site.name ? { siteName: site.name } : {}),
    bundle: view.bundle,
    dmzRelay: { name: site.dmz.relay.name, os: site.dmz.relay.os },
    relays: view.relays.map((r) => ({
      name: r.name,
      os: r.os,
      targetFolder: r.targetFolder,
      status: r.status,
      ...(r.problem ? { problem: r.problem } : {}),
    })),
    ...(view.waitingFor?.until ? { deadline: Date.parse(view.waitingFor.until) } : {}),
    operators: site.people.operators,
    escalation: site.people.escalation,
  });
}

export function createCourierSheetProvider(client: Client, config: AppConfig): CourierSheetProvider {
  return {
    async sheet(workflowId) {
      try {
        return await courierSheetOf(client, config, workflowId);
      } catch {
        return undefined;
      }
    },
  };
}
