/**
 * Activities of upgrade rollouts (U1–U5) that read a Deep Security manager: its own version
 * (X-DSM-Version), the relays' agent versions, and the agents page by page. They run where that
 * manager can be reached (the control worker, or the worker of the manager's zone), like the
 * manager activities. Nothing here upgrades anything: manager and database upgrades are installers
 * a person runs, and no verified API upgrades relay or agent software (deep-security-interfaces.md).
 *
 * Every call is short and returns a bounded result: a wave's agents, counts, and at most
 * BEHIND_SAMPLE hosts that lag, so thousands of agents never reach a workflow's history at once.
 */
import { ApplicationFailure } from '@temporalio/common';
import { isRetryable, type ComputerSummary, type DeepSecurityApi } from '../adapters/deep-security-api';
import { describeReadings, isReachableStatus, reachedTarget, type VersionReading } from '../domain/upgrade-stages';
import type { ManagerSide } from './types';

export interface UpgradeDeps {
  api(site: string, side: ManagerSide): DeepSecurityApi;
}

/** How many lagging hosts a result names; the rest are only counted. */
export const BEHIND_SAMPLE = 25;
/** The API's page limit (maxItems). */
const PAGE = 5000;
/** agentVersion of a computer without an agent. */
const NO_AGENT = '0.0.0.0';

export interface ComputerReading extends VersionReading {
  id: number;
}

export interface ReadSideInput {
  site: string;
  side: ManagerSide;
  /** Relays (or other computers) whose agent version is wanted besides the manager's version. */
  computerIds: number[];
}

export interface SideReading {
  manager: VersionReading;
  computers: ComputerReading[];
}

export interface ListAgentWaveInput {
  site: string;
  /** The wave starts after this computer id (0 for the first). */
  afterId: number;
  size: number;
  /** The site's relays: relay-enabled agents are upgraded in U4, not as agents. */
  excludeIds: number[];
}

export interface AgentRef {
  id: number;
  hostName: string;
  version: string;
  reachable: boolean;
}

export interface AgentWave {
  agents: AgentRef[];
  /** The id to pass as afterId for the next wave. */
  lastId?: number;
  /** No agent after this wave. */
  exhausted: boolean;
}

export interface CountAgentsInput {
  site: string;
  excludeIds: number[];
  target: string;
}

export interface AgentCount {
  total: number;
  atTarget: number;
  unreachable: number;
}

export type VersionSubject =
  | { kind: 'manager' }
  | { kind: 'computers'; ids: number[] }
  /** Agents of one wave: read through the paged computer search, not one request each. */
  | { kind: 'agents'; ids: number[] };

export interface ReadVersionsInput {
  site: string;
  side: ManagerSide;
  subject: VersionSubject;
  target: string;
}

export interface VersionCheck {
  total: number;
  atTarget: number;
  behindCount: number;
  /** At most BEHIND_SAMPLE of the hosts below the target. */
  behind: VersionReading[];
  /** Short text of what was seen, e.g. "20.0.1000" or "relay-1 20.0.1.5, relay-2 20.0.0.8438". */
  seen: string;
}

/** Permanent API errors fail the activity at once; everything else is left to Temporal's retry. */
async function call<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (isRetryable(err)) throw err;
    throw ApplicationFailure.nonRetryable(`${what}: ${(err as Error).message}`, 'PermanentApiError', {
      name: (err as Error).name,
    });
  }
}

function readingOf(c: ComputerSummary): ComputerReading {
  return {
    id: c.id,
    name: c.displayName || c.hostName,
    version: c.agentVersion,
    reachable: isReachableStatus(c.agentStatus),
    status: c.agentStatus ?? 'unknown',
  };
}

export function createUpgradeActivities(deps: UpgradeDeps) {
  const managerReading = async (site: string, side: ManagerSide): Promise<VersionReading> => {
    const v = await call(`reading the version of the ${side} manager of ${site}`, () =>
      deps.api(site, side).managerVersion(),
    );
    return { name: `${side === 'dmz' ? 'DMZ' : 'air-gapped'} manager`, version: v.version, reachable: true };
  };

  const computerReadings = (site: string, side: ManagerSide, ids: number[]) =>
    Promise.all(
      ids.map(async (id) =>
        readingOf(
          await call(`reading computer ${id} on the ${side} manager of ${site}`, () =>
            deps.api(site, side).getComputer({ computerId: id }),
          ),
        ),
      ),
    );

  /** Pages the air-gapped manager's computers after `afterId` while `more(page)` says so. */
  async function* pages(site: string, afterId: number, maxItems: number): AsyncGenerator<ComputerSummary[]> {
    let after = afterId;
    for (;;) {
      const page = await call(`listing computers of the air-gapped manager of ${site}`, () =>
        deps.api(site, 'airgapped').listComputers({ maxItems, afterId: after }),
      );
      yield page.computers;
      if (page.nextAfterId === undefined) return;
      after = page.nextAfterId;
    }
  }

  const isAgent = (c: ComputerSummary, exclude: ReadonlySet<number>) =>
    !exclude.has(c.id) && c.agentVersion !== NO_AGENT;

  function check(readings: VersionReading[], target: string): VersionCheck {
    const behind = readings.filter((r) => !reachedTarget(r.version, target));
    return {
      total: readings.length,
      atTarget: readings.length - behind.length,
      behindCount: behind.length,
      behind: behind.slice(0, BEHIND_SAMPLE),
      seen: readings.length <= 5 ? describeReadings(readings) : `${readings.length} hosts`,
    };
  }

  return {
    /** A manager's version and the agent versions of some of its computers (precheck). */
    async readManagerSide(input: ReadSideInput): Promise<SideReading> {
      const [manager, computers] = await Promise.all([
        managerReading(input.site, input.side),
        computerReadings(input.site, input.side, input.computerIds),
      ]);
      return { manager, computers };
    },

    /** One poll of a stage's verification: who is at the target, who lags. */
    async readVersions(input: ReadVersionsInput): Promise<VersionCheck> {
      const { site, side, subject, target } = input;
      if (subject.kind === 'manager') return check([await managerReading(site, side)], target);
      if (subject.kind === 'computers') return check(await computerReadings(site, side, subject.ids), target);
      if (subject.ids.length === 0) return check([], target);
      const wanted = new Set(subject.ids);
      const last = Math.max(...subject.ids);
      const found = new Map<number, VersionReading>();
      const maxItems = Math.min(PAGE, subject.ids.length + 50);
      for await (const page of pages(site, Math.min(...subject.ids) - 1, maxItems)) {
        for (const c of page) if (wanted.has(c.id)) found.set(c.id, readingOf(c));
        if (page.length === 0 || page.at(-1)!.id >= last) break;
      }
      const readings = subject.ids.map(
        (id) => found.get(id) ?? { name: `computer ${id}`, version: 'gone', reachable: false, status: 'not listed' },
      );
      return check(readings, target);
    },

    /** The next wave of agents (non-relay computers with an agent), in id order. */
    async listAgentWave(input: ListAgentWaveInput): Promise<AgentWave> {
      const exclude = new Set(input.excludeIds);
      const agents: AgentRef[] = [];
      const maxItems = Math.min(PAGE, input.size + input.excludeIds.length + 1);
      let exhausted = true;
      outer: for await (const page of pages(input.site, input.afterId, maxItems)) {
        for (const c of page) {
          if (!isAgent(c, exclude)) continue;
          if (agents.length === input.size) {
            exhausted = false;
            break outer;
          }
          const r = readingOf(c);
          agents.push({ id: c.id, hostName: r.name, version: r.version, reachable: r.reachable });
        }
      }
      return { agents, lastId: agents.at(-1)?.id, exhausted };
    },

    /** How many agents the air-gapped manager lists, and how many already have the target (U5 precheck). */
    async countAgents(input: CountAgentsInput): Promise<AgentCount> {
      const exclude = new Set(input.excludeIds);
      const count: AgentCount = { total: 0, atTarget: 0, unreachable: 0 };
      for await (const page of pages(input.site, 0, PAGE)) {
        for (const c of page) {
          if (!isAgent(c, exclude)) continue;
          count.total++;
          if (reachedTarget(c.agentVersion, input.target)) count.atTarget++;
          if (!isReachableStatus(c.agentStatus)) count.unreachable++;
        }
      }
      return count;
    },
  };
}
