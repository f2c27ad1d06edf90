/**
 * One simulated manager's REST API (the part of Deep Security API v1 the project uses). Order of
 * checks as a client sees it: path, api-secret-key (401), api-version (400), rate limit (429),
 * injected faults, then the resource. Every answer carries X-DSM-Version and errors carry
 * `message`, as the interfaces doc describes.
 */
import crypto from 'node:crypto';
import { z } from 'zod';
import { SimRequestError, type SimEngine } from './engine';
import { consume, sameManager } from './faults';
import { jsonBody, type SimHandler, type SimHttpRequest, type SimHttpResponse } from './http';
import {
  parseExpand,
  renderAntiMalwareConfiguration,
  renderComputer,
  renderPolicy,
  renderTask,
  settingsObject,
} from './manager-views';
import type { SimManager, SimPolicy, Side } from './state';

/**
 * The value the simulator accepts for "Other update source" (S1). The real value is unverified;
 * whoever automates S1 must make it configurable and use this one against the simulator.
 */
export const SIM_OTHER_UPDATE_SOURCE_MODE = 'Other Update Source';
export const SIM_SMART_SCAN_OFF = 'Off';

/** Known setting names and their allowed values (null: any string). Others are refused with 400. */
const SYSTEM_SETTINGS: Record<string, readonly string[] | null> = {
  platformSettingUpdateSecurityPrimarySourceMode: ['Trend Micro ActiveUpdate Server', SIM_OTHER_UPDATE_SOURCE_MODE],
  platformSettingUpdateSecurityPrimarySourceUrl: null,
  platformSettingSmartProtectionFeedbackEnabled: ['true', 'false'],
};
const POLICY_SETTINGS: Record<string, readonly string[] | null> = {
  antiMalwareSettingSmartScanState: ['Automatic', SIM_SMART_SCAN_OFF],
};
const COMPUTER_SETTINGS: Record<string, readonly string[] | null> = {
  ...POLICY_SETTINGS,
  platformSettingRelayState: ['true', 'false'],
};

export interface ManagerApiOptions {
  siteId: string;
  side: Side;
  /** The path of the manager URL, normally /api. */
  basePath: string;
  apiKey: string;
  rateLimitPerMinute: number;
}

export function createManagerApi(engine: SimEngine, opts: ManagerApiOptions): SimHandler {
  const expectedKey = digest(opts.apiKey);
  const ref = { siteId: opts.siteId, side: opts.side };
  const base = opts.basePath.replace(/\/+$/, '');
  let window = { start: 0, count: 0 };

  return (req) => {
    const manager = engine.manager(opts.siteId, opts.side);
    const headers = { 'X-DSM-Version': `Deep Security/${manager.version}` };
    const reply = (status: number, body?: unknown, delayMs?: number): SimHttpResponse => ({
      status,
      body,
      headers,
      delayMs,
    });
    const { pathname } = req.url;
    if (!pathname.startsWith(`${base}/`)) return reply(404, { message: 'Not found' });
    const key = req.headers['api-secret-key'];
    if (typeof key !== 'string' || !crypto.timingSafeEqual(digest(key), expectedKey)) {
      return reply(401, { message: 'Authentication failed: missing or invalid api-secret-key' });
    }
    if (req.headers['api-version'] !== 'v1') {
      return reply(400, { message: 'Missing or unsupported api-version header: expected v1' });
    }
    const now = Date.now();
    if (now - window.start >= 60_000) window = { start: now, count: 0 };
    if (++window.count > opts.rateLimitPerMinute) return reply(429, { message: 'Too many API requests' });
    const faults = engine.state.faults;
    const mine = (f: { manager?: { siteId: string; side: Side } }) => sameManager(f.manager, ref);
    if (consume(faults, 'rate-limit', mine)) {
      engine.save();
      return reply(429, { message: 'Too many API requests' });
    }
    const serverError = consume(faults, 'server-error', mine);
    if (serverError) {
      engine.save();
      return reply(serverError.status, { message: 'Internal server error' });
    }
    const stall = consume(faults, 'stall', mine);
    if (stall) engine.save();
    try {
      const [status, body] = route(engine, manager, req, pathname.slice(base.length + 1).split('/'));
      return reply(status, body, stall?.ms);
    } catch (err) {
      if (err instanceof SimRequestError) return reply(err.status, { message: err.message }, stall?.ms);
      if (err instanceof SyntaxError) return reply(400, { message: 'The request body is not valid JSON' });
      if (err instanceof z.ZodError) return reply(400, { message: `Invalid request: ${z.prettifyError(err)}` });
      throw err;
    }
  };
}

function digest(text: string): Buffer {
  return crypto.createHash('sha256').update(text).digest();
}

type Result = [status: number, body?: unknown];

function route(engine: SimEngine, m: SimManager, req: SimHttpRequest, parts: string[]): Result {
  const { method } = req;
  const [resource, idText, sub, name, ...rest] = parts;
  if (rest.length > 0) return [404, { message: 'Not found' }];
  // Ids are numbers everywhere but in /systemsettings/{name} and /computers/search.
  const numericId = (): number => {
    const n = Number(idText);
    if (!Number.isInteger(n) || n <= 0) throw new SimRequestError('Not found', 404);
    return n;
  };
  const allow = (...methods: string[]) => {
    if (!methods.includes(method)) throw new SimRequestError(`Method ${method} not allowed here`, 405);
  };

  switch (resource) {
    case 'computers': {
      const expand = parseExpand(req.url.searchParams);
      const latest = engine.latestKnown(m);
      if (idText === undefined) {
        allow('GET');
        return [200, { computers: sortedComputers(m).map((c) => renderComputer(c, expand, latest)) }];
      }
      if (idText === 'search') {
        allow('POST');
        const found = searchComputers(m, jsonBody(req));
        return [200, { computers: found.map((c) => renderComputer(c, expand, latest)) }];
      }
      const computer = engine.computer(m, numericId());
      if (sub === undefined) {
        allow('GET');
        return [200, renderComputer(computer, expand, latest)];
      }
      if (sub !== 'settings' || name === undefined) return [404, { message: 'Not found' }];
      allow('GET', 'POST');
      const policy = m.policies[computer.policyId]!;
      if (method === 'POST') {
        computer.settings[name] = checkSetting(COMPUTER_SETTINGS, name, valueOf(jsonBody(req)));
        engine.save();
      } else checkSetting(COMPUTER_SETTINGS, name);
      return [200, { value: computer.settings[name] ?? policy.settings[name] ?? '' }];
    }
    case 'policies': {
      if (idText === undefined) return [404, { message: 'Not found' }];
      const id = numericId();
      const policy = m.policies[id];
      if (!policy) throw new SimRequestError(`Unable to find the policy with ID ${id}`, 404);
      if (sub === undefined) {
        allow('GET', 'POST');
        if (method === 'POST') {
          modifyPolicy(policy, m, jsonBody(req));
          engine.save();
        }
        return [200, renderPolicy(policy)];
      }
      if (sub !== 'settings' || name === undefined) return [404, { message: 'Not found' }];
      allow('GET', 'POST');
      if (method === 'POST') {
        policy.settings[name] = checkSetting(POLICY_SETTINGS, name, valueOf(jsonBody(req)));
        engine.save();
      } else checkSetting(POLICY_SETTINGS, name);
      return [200, { value: policy.settings[name] ?? '' }];
    }
    case 'antimalwareconfigurations': {
      if (idText === undefined || sub !== undefined) return [404, { message: 'Not found' }];
      allow('GET', 'POST');
      const id = numericId();
      const config = m.antiMalwareConfigurations[id];
      if (!config) throw new SimRequestError(`Unable to find the anti-malware configuration with ID ${id}`, 404);
      if (method === 'POST') {
        const changes = amChanges.parse(jsonBody(req) ?? {});
        Object.assign(config, Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined)));
        engine.save();
      }
      return [200, renderAntiMalwareConfiguration(config)];
    }
    case 'systemsettings': {
      if (sub !== undefined) return [404, { message: 'Not found' }];
      if (idText === undefined) {
        allow('GET', 'POST');
        if (method === 'POST') {
          const batch = z.record(z.string(), z.object({ value: z.string() })).parse(jsonBody(req) ?? {});
          const checked = Object.entries(batch).map(
            ([k, v]) => [k, checkSetting(SYSTEM_SETTINGS, k, v.value)] as const,
          );
          for (const [k, v] of checked) m.systemSettings[k] = v;
          engine.save();
          return [200, settingsObject(Object.fromEntries(checked.map(([k]) => [k, m.systemSettings[k]!])))];
        }
        return [200, settingsObject(m.systemSettings)];
      }
      allow('GET', 'POST');
      const settingName = idText;
      if (method === 'POST') {
        m.systemSettings[settingName] = checkSetting(SYSTEM_SETTINGS, settingName, valueOf(jsonBody(req)));
        engine.save();
      } else checkSetting(SYSTEM_SETTINGS, settingName);
      return [200, { value: m.systemSettings[settingName] ?? '' }];
    }
    case 'scheduledtasks': {
      if (sub !== undefined) return [404, { message: 'Not found' }];
      if (idText === undefined) {
        allow('GET', 'POST');
        if (method === 'GET') return [200, { scheduledTasks: Object.values(m.tasks).map(renderTask) }];
        const task = taskBody.parse(jsonBody(req));
        const params = task.checkForSecurityUpdatesTaskParameters;
        const startTime = task.scheduleDetails.onceOnlyScheduleParameters?.startTime ?? 0;
        const created = {
          id: 0,
          name: task.name,
          computerId: params.computerFilter.computerID,
          timeout: params.timeout,
          startTime,
        };
        created.id = engine.createTask(m, { ...created, runNow: task.runNow }).id;
        return [200, renderTask(created)];
      }
      allow('GET', 'DELETE');
      const id = numericId();
      const task = m.tasks[id];
      if (!task) throw new SimRequestError(`Unable to find the scheduled task with ID ${id}`, 404);
      if (method === 'DELETE') {
        delete m.tasks[id];
        engine.save();
        return [204];
      }
      return [200, renderTask(task)];
    }
    default:
      return [404, { message: 'Not found' }];
  }
}

function sortedComputers(m: SimManager) {
  return Object.values(m.computers).sort((a, b) => a.id - b.id);
}

const ID_TESTS: Record<string, (a: number, b: number) => boolean> = {
  equal: (a, b) => a === b,
  'not-equal': (a, b) => a !== b,
  'less-than': (a, b) => a < b,
  'less-than-or-equal': (a, b) => a <= b,
  'greater-than': (a, b) => a > b,
  'greater-than-or-equal': (a, b) => a >= b,
};

const criterion = z.object({
  fieldName: z.literal('ID', { message: 'the simulator searches computers by ID only' }),
  idTest: z.enum(Object.keys(ID_TESTS) as [string, ...string[]]),
  idValue: z.number(),
});

const searchBody = z.object({
  maxItems: z.number().int().min(1).max(5000).default(5000),
  searchCriteria: z.union([criterion, z.array(criterion)]).default([]),
  sortByObjectID: z.boolean().optional(),
});

/** Paging as the API documents it: maxItems plus an ID criterion, results ordered by ID. */
function searchComputers(m: SimManager, body: unknown) {
  const { maxItems, searchCriteria } = searchBody.parse(body ?? {});
  const criteria = Array.isArray(searchCriteria) ? searchCriteria : [searchCriteria];
  return sortedComputers(m)
    .filter((c) => criteria.every((k) => ID_TESTS[k.idTest]!(c.id, k.idValue)))
    .slice(0, maxItems);
}

function valueOf(body: unknown): string {
  return z.object({ value: z.string() }).parse(body).value;
}

function checkSetting(catalogue: Record<string, readonly string[] | null>, name: string, value?: string): string {
  if (!(name in catalogue)) throw new SimRequestError(`Invalid setting name: ${name}`, 400);
  const allowed = catalogue[name];
  if (value !== undefined && allowed && !allowed.includes(value)) {
    throw new SimRequestError(`Invalid value for ${name}: "${value}" (expected one of: ${allowed.join(', ')})`, 400);
  }
  return value ?? '';
}

const moduleState = z.enum(['inherited', 'on', 'off']);
const policyChanges = z.object({
  antiMalware: z
    .object({ state: moduleState.optional(), realTimeScanConfigurationID: z.number().int().optional() })
    .optional(),
  webReputation: z.object({ state: moduleState.optional() }).optional(),
});

function modifyPolicy(policy: SimPolicy, m: SimManager, body: unknown): void {
  const changes = policyChanges.parse(body ?? {});
  const realTime = changes.antiMalware?.realTimeScanConfigurationID;
  if (realTime !== undefined && !m.antiMalwareConfigurations[realTime]) {
    throw new SimRequestError(`Unable to find the anti-malware configuration with ID ${realTime}`, 400);
  }
  if (changes.antiMalware?.state) policy.antiMalwareState = changes.antiMalware.state;
  if (realTime !== undefined) policy.realTimeScanConfigurationId = realTime;
  if (changes.webReputation?.state) policy.webReputationState = changes.webReputation.state;
}

const amChanges = z.object({
  memoryScanEnabled: z.boolean().optional(),
  machineLearningEnabled: z.boolean().optional(),
  behaviorMonitoringEnabled: z.boolean().optional(),
});

const TIMEOUTS = ['never', 'one-hour', 'two-hours', 'four-hours', 'eight-hours'] as const;
const taskBody = z.object({
  name: z.string().min(1).default('Check for security updates'),
  type: z.literal('check-for-security-updates', {
    message: 'the simulator runs check-for-security-updates tasks only',
  }),
  runNow: z.boolean().default(false),
  scheduleDetails: z.object({
    recurrenceType: z.literal('none', { message: 'the simulator runs run-once tasks only' }),
    recurrenceCount: z.literal(1).optional(),
    onceOnlyScheduleParameters: z.object({ startTime: z.number().int().min(0) }).optional(),
  }),
  checkForSecurityUpdatesTaskParameters: z.object({
    computerFilter: z.object({
      type: z.literal('computer', { message: 'the simulator filters by one computer only' }),
      computerID: z.number().int().positive(),
    }),
    timeout: z.enum(TIMEOUTS).default('one-hour'),
  }),
});
