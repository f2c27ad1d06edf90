/**
 * The Deep Security manager boundary: the REST calls the project needs, each with one input
 * object and a typed result. Transport, back-off and error kinds live in deep-security-http.ts
 * and deep-security-errors.ts; this file maps API objects to the project's types and refuses
 * answers it cannot understand (PermanentApiError with the status) rather than guessing.
 */
import { z } from 'zod';
import type { ManagerConfig } from '../domain/config';
import { PermanentApiError, type ApiErrorContext } from './deep-security-errors';
import { createRequester, type ApiResponse, type DeepSecurityApiOptions, type RequestSpec } from './deep-security-http';
import {
  SECURITY_UPDATE_TIMEOUTS,
  type AntiMalwareChanges,
  type AntiMalwareConfiguration,
  type ComputerPage,
  type ComputerState,
  type ComputerSummary,
  type ManagerVersion,
  type ModuleState,
  type PolicyState,
  type SecurityComponent,
  type SecurityUpdateTimeout,
  type Setting,
  type TriggeredSecurityUpdate,
} from './deep-security-types';

export * from './deep-security-types';
export * from './deep-security-errors';
export type { DeepSecurityApiOptions } from './deep-security-http';

export interface DeepSecurityApi {
  readonly managerUrl: string;
  /** From the X-DSM-Version header of a minimal computer search. */
  managerVersion(input?: Record<string, never>): Promise<ManagerVersion>;
  /** Status, security update status and components, agent version and relay flag. */
  getComputer(input: { computerId: number }): Promise<ComputerState>;
  /** One page ordered by id; pass `nextAfterId` back as `afterId` for the next. */
  listComputers(input?: { maxItems?: number; afterId?: number }): Promise<ComputerPage>;
  /** A run-once check-for-security-updates task for one computer (nearest API equivalent of C3). */
  triggerSecurityUpdate(input: {
    computerId: number;
    timeout?: SecurityUpdateTimeout;
  }): Promise<TriggeredSecurityUpdate>;
  getSystemSetting(input: { name: string }): Promise<Setting>;
  setSystemSetting(input: Setting): Promise<Setting>;
  /** Batch: POST /systemsettings; returns the values the manager now holds for those names. */
  setSystemSettings(input: { settings: Record<string, string> }): Promise<Record<string, string>>;
  getPolicySetting(input: { policyId: number; name: string }): Promise<Setting>;
  setPolicySetting(input: { policyId: number; name: string; value: string }): Promise<Setting>;
  /** A computer-level override of a policy setting. */
  getComputerSetting(input: { computerId: number; name: string }): Promise<Setting>;
  setComputerSetting(input: { computerId: number; name: string; value: string }): Promise<Setting>;
  getPolicy(input: { policyId: number }): Promise<PolicyState>;
  /** policy.antiMalware.state / policy.webReputation.state (H2). */
  setPolicyModuleState(input: {
    policyId: number;
    module: 'antiMalware' | 'webReputation';
    state: ModuleState;
  }): Promise<PolicyState>;
  getAntiMalwareConfiguration(input: { configurationId: number }): Promise<AntiMalwareConfiguration>;
  /** H4–H6 on the real-time scan configuration. */
  modifyAntiMalwareConfiguration(input: {
    configurationId: number;
    changes: AntiMalwareChanges;
  }): Promise<AntiMalwareConfiguration>;
}

const EXPAND = { expand: 'computerStatus,securityUpdates' };
const MAX_ITEMS = 5000;

export function createDeepSecurityApi(
  manager: ManagerConfig,
  apiKey: string | undefined,
  options: DeepSecurityApiOptions = {},
): DeepSecurityApi {
  const request = createRequester(manager, apiKey, options);
  const call = async <T>(spec: RequestSpec, schema: z.ZodType<T>): Promise<T> => {
    const res = await request(spec);
    return parse(res, schema, { manager: manager.url, operation: `${spec.method} ${spec.path}` });
  };
  const setting = (path: string) => async (name: string, value?: string) => {
    const spec: RequestSpec = value === undefined ? { method: 'GET', path } : { method: 'POST', path, body: { value } };
    const body = await call(spec, settingValue);
    return { name, value: body.value };
  };

  return {
    managerUrl: manager.url,

    async managerVersion() {
      const res = await request({
        method: 'POST',
        path: '/computers/search',
        query: { expand: 'none' },
        body: { maxItems: 1 },
      });
      const header = String(res.headers['x-dsm-version'] ?? '');
      const version = header.split('/').pop()?.trim() ?? '';
      if (version === '') {
        throw unexpected(res, { manager: manager.url, operation: 'POST /computers/search' }, 'no X-DSM-Version header');
      }
      return { version, header };
    },

    async getComputer({ computerId }) {
      const [computer, relay] = await Promise.all([
        call({ method: 'GET', path: `/computers/${id(computerId)}`, query: EXPAND }, computerSchema),
        setting(`/computers/${id(computerId)}/settings/platformSettingRelayState`)('platformSettingRelayState'),
      ]);
      return { ...toSummary(computer), isRelay: relay.value.toLowerCase() === 'true' };
    },

    async listComputers({ maxItems = MAX_ITEMS, afterId = 0 } = {}) {
      if (!Number.isInteger(maxItems) || maxItems < 1 || maxItems > MAX_ITEMS) {
        throw new RangeError(`maxItems must be an integer from 1 to ${MAX_ITEMS}, got ${maxItems}`);
      }
      const body = await call(
        {
          method: 'POST',
          path: '/computers/search',
          query: EXPAND,
          body: {
            maxItems,
            searchCriteria: [{ fieldName: 'ID', idTest: 'greater-than', idValue: afterId }],
            sortByObjectID: true,
          },
        },
        z.object({ computers: z.array(computerSchema) }),
      );
      const computers = body.computers.map(toSummary);
      const last = computers.at(-1);
      return computers.length === maxItems && last ? { computers, nextAfterId: last.id } : { computers };
    },

    async triggerSecurityUpdate({ computerId, timeout = 'one-hour' }) {
      if (!SECURITY_UPDATE_TIMEOUTS.includes(timeout)) {
        throw new RangeError(`timeout must be one of ${SECURITY_UPDATE_TIMEOUTS.join(', ')}, got ${String(timeout)}`);
      }
      const task = await call(
        {
          method: 'POST',
          path: '/scheduledtasks',
          body: {
            name: `airgap-orchestrator: check for security updates on computer ${computerId}`,
            type: 'check-for-security-updates',
            runNow: true,
            scheduleDetails: {
              recurrenceType: 'none',
              recurrenceCount: 1,
              onceOnlyScheduleParameters: { startTime: 0 },
            },
            checkForSecurityUpdatesTaskParameters: {
              computerFilter: { type: 'computer', computerID: id(computerId) },
              timeout,
            },
          },
        },
        z.object({ ID: z.number().int() }),
      );
      return { taskId: task.ID, computerId, timeout };
    },

    getSystemSetting: ({ name }) => setting(`/systemsettings/${segment(name)}`)(name),
    setSystemSetting: ({ name, value }) => setting(`/systemsettings/${segment(name)}`)(name, value),

    async setSystemSettings({ settings }) {
      const body = Object.fromEntries(Object.entries(settings).map(([k, value]) => [k, { value }]));
      const res = await call({ method: 'POST', path: '/systemsettings', body }, z.record(z.string(), settingValue));
      return Object.fromEntries(Object.entries(res).map(([k, v]) => [k, v.value]));
    },

    getPolicySetting: ({ policyId, name }) => setting(`/policies/${id(policyId)}/settings/${segment(name)}`)(name),
    setPolicySetting: ({ policyId, name, value }) =>
      setting(`/policies/${id(policyId)}/settings/${segment(name)}`)(name, value),
    getComputerSetting: ({ computerId, name }) =>
      setting(`/computers/${id(computerId)}/settings/${segment(name)}`)(name),
    setComputerSetting: ({ computerId, name, value }) =>
      setting(`/computers/${id(computerId)}/settings/${segment(name)}`)(name, value),

    async getPolicy({ policyId }) {
      return toPolicy(await call({ method: 'GET', path: `/policies/${id(policyId)}` }, policySchema));
    },

    async setPolicyModuleState({ policyId, module, state }) {
      const spec: RequestSpec = { method: 'POST', path: `/policies/${id(policyId)}`, body: { [module]: { state } } };
      return toPolicy(await call(spec, policySchema));
    },

    async getAntiMalwareConfiguration({ configurationId }) {
      const path = `/antimalwareconfigurations/${id(configurationId)}`;
      return toAmConfig(await call({ method: 'GET', path }, amSchema));
    },

    async modifyAntiMalwareConfiguration({ configurationId, changes }) {
      const path = `/antimalwareconfigurations/${id(configurationId)}`;
      return toAmConfig(await call({ method: 'POST', path, body: changes }, amSchema));
    },
  };
}

// ---- mapping API objects ---------------------------------------------------------------------

function id(n: number): number {
  if (!Number.isInteger(n) || n <= 0) throw new RangeError(`expected a positive integer id, got ${n}`);
  return n;
}

/** Setting names go into the URL path: refuse anything that could change the path. */
function segment(name: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new RangeError(`invalid setting name "${name}"`);
  return name;
}

function unexpected(res: ApiResponse, context: ApiErrorContext, why: string): PermanentApiError {
  return new PermanentApiError(res.status, `unexpected response: ${why}`, context);
}

function parse<T>(res: ApiResponse, schema: z.ZodType<T>, context: ApiErrorContext): T {
  const result = schema.safeParse(res.body);
  if (!result.success) throw unexpected(res, context, z.prettifyError(result.error).replace(/\n/g, '; '));
  return result.data;
}

const settingValue = z.object({ value: z.string() });

const componentSchema = z.object({
  name: z.string(),
  version: z.string(),
  latest: z.boolean().optional().catch(undefined),
  platform: z.string().optional().catch(undefined),
  forUseBy: z.string().optional().catch(undefined),
});

const computerSchema = z.object({
  ID: z.number().int(),
  hostName: z.string(),
  displayName: z.string().optional(),
  agentVersion: z.string().default('0.0.0.0'),
  policyID: z.number().int().optional(),
  relayListID: z.number().int().optional(),
  computerStatus: z
    .object({ agentStatus: z.string().optional(), agentStatusMessages: z.array(z.string()).default([]) })
    .optional(),
  securityUpdates: z
    .looseObject({
      lastChanged: z.number().optional(),
      updateStatus: z.object({ status: z.string().optional(), statusMessage: z.string().optional() }).optional(),
    })
    .optional(),
});

function toSummary(c: z.output<typeof computerSchema>): ComputerSummary {
  const out: ComputerSummary = dropUndefined({
    id: c.ID,
    hostName: c.hostName,
    displayName: c.displayName || undefined,
    agentVersion: c.agentVersion,
    policyId: c.policyID,
    relayListId: c.relayListID,
    agentStatus: c.computerStatus?.agentStatus,
    agentStatusMessages: c.computerStatus?.agentStatusMessages ?? [],
  });
  const su = c.securityUpdates;
  if (su) {
    // Every array under securityUpdates is a component list (antiMalware, rules, other…).
    const components: SecurityComponent[] = Object.entries(su).flatMap(([group, list]) =>
      Array.isArray(list)
        ? list.flatMap((item) => {
            const parsed = componentSchema.safeParse(item);
            return parsed.success ? [dropUndefined({ group, ...parsed.data })] : [];
          })
        : [],
    );
    out.securityUpdates = dropUndefined({
      status: su.updateStatus?.status,
      statusMessage: su.updateStatus?.statusMessage,
      lastChanged: su.lastChanged,
      components,
    });
  }
  return out;
}

const policySchema = z.object({
  ID: z.number().int(),
  name: z.string(),
  antiMalware: z
    .object({ state: z.string().optional(), realTimeScanConfigurationID: z.number().int().optional() })
    .optional(),
  webReputation: z.object({ state: z.string().optional() }).optional(),
});

function toPolicy(p: z.output<typeof policySchema>): PolicyState {
  return dropUndefined({
    id: p.ID,
    name: p.name,
    antiMalwareState: p.antiMalware?.state,
    webReputationState: p.webReputation?.state,
    realTimeScanConfigurationId: p.antiMalware?.realTimeScanConfigurationID,
  });
}

const amSchema = z.object({
  ID: z.number().int(),
  name: z.string(),
  scanType: z.string().optional(),
  memoryScanEnabled: z.boolean().optional(),
  machineLearningEnabled: z.boolean().optional(),
  behaviorMonitoringEnabled: z.boolean().optional(),
});

function toAmConfig(a: z.output<typeof amSchema>): AntiMalwareConfiguration {
  return dropUndefined({
    id: a.ID,
    name: a.name,
    scanType: a.scanType,
    memoryScanEnabled: a.memoryScanEnabled,
    machineLearningEnabled: a.machineLearningEnabled,
    behaviorMonitoringEnabled: a.behaviorMonitoringEnabled,
  });
}

/** Results cross Temporal's payload converter: leave absent fields out instead of `undefined`. */
function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
