/**
 * Steering the simulated world: in-process through `SimControl`, or over HTTP on the loopback
 * control endpoint (`createControlApi`), which also serves the simulated host executables.
 *
 * Control endpoint (http://127.0.0.1:<controlPort>, every request with
 * `Authorization: Bearer <token>`; url and token are in <dataDir>/sim/control.json, mode 0600):
 *   GET    /state                  the whole simulated state (JSON)
 *   GET    /bundles                bundles dsa_control produced
 *   POST   /publish                new versions on the update server → { components }
 *   POST   /faults                 body: a SimFault (see faults.ts) → { faults }
 *   DELETE /faults                 clears every fault, brings every relay back online
 *   POST   /versions/manager       { siteId, side, version }              (X-DSM-Version)
 *   POST   /versions/agent         { siteId, side, computerId, version }  (agentVersion)
 *   POST   /exec/dsa_control       { host, args }          → { exitCode, stdout, stderr }
 *   POST   /exec/dsm_c             { siteId, side, args }  → { exitCode, stdout, stderr }
 *   POST   /rules/export           { siteId, version, folder } → the exported .dsru (R1)
 *   POST   /rules/import           { siteId, path }        → { fileName, version, summary } (R3)
 */
import crypto from 'node:crypto';
import { z } from 'zod';
import type { ComponentSet } from './components';
import { SimRequestError, type SimEngine } from './engine';
import type { SimFault } from './faults';
import { runDsaControl, runDsmC } from './host-commands';
import { jsonBody, type SimHandler } from './http';
import type { RuleFileSummary } from './rule-files';
import type { BundleRecord, RuleFileRecord, SimState, Side } from './state';

export interface SimControl {
  /** New patterns and the next rule update on the update server; DMZ relays take them at once. */
  publishUpdate(): ComponentSet;
  injectFault(fault: SimFault): void;
  /** Removes every fault and brings every relay back online. */
  clearFaults(): void;
  /** The version the manager reports in X-DSM-Version. */
  setManagerVersion(input: { siteId: string; side: Side; version: string }): void;
  /** A relay's or agent's agentVersion (after a simulated upgrade). */
  setAgentVersion(input: { siteId: string; side: Side; computerId: number; version: string }): void;
  /** The same for many computers, saved once (large simulated fleets). */
  setAgentVersions(input: { siteId: string; side: Side; computerIds: number[]; version: string }): void;
  /** R1 by hand: the DMZ manager's console exports one rule update (.dsru) into `folder`. */
  exportRuleUpdate(input: { siteId: string; version: string; folder: string }): RuleFileRecord;
  /**
   * R3 by hand: a .dsru is imported in the air-gapped manager's console; refused (SimRequestError)
   * when it does not validate or is not newer. Its computers report it after the import delay.
   */
  importRuleUpdate(input: {
    siteId: string;
    path: string;
  }): Promise<{ fileName: string; version: string; summary: RuleFileSummary }>;
  /** A deep copy of the simulated state. */
  snapshot(): SimState;
  bundles(): BundleRecord[];
  /** Resolves once every pending import and distribution has run. */
  settle(timeoutMs?: number): Promise<void>;
}

export function createSimControl(engine: SimEngine): SimControl {
  return {
    publishUpdate: () => engine.publishUpdate(),
    injectFault: (fault) => engine.injectFault(fault),
    clearFaults: () => engine.clearFaults(),
    setManagerVersion: (input) => engine.setManagerVersion(input),
    setAgentVersion: (input) => engine.setAgentVersion(input),
    setAgentVersions: (input) => engine.setAgentVersions(input),
    exportRuleUpdate: (input) => engine.exportRuleUpdate(input),
    importRuleUpdate: (input) => engine.importRuleUpdate(input),
    snapshot: () => structuredClone(engine.state),
    bundles: () => structuredClone(engine.state.bundles),
    settle: (timeoutMs) => engine.settle(timeoutMs),
  };
}

const side = z.enum(['dmz', 'airgapped']);
const args = z.array(z.string());

export function createControlApi(
  engine: SimEngine,
  control: SimControl,
  opts: { token: string; bundleSizeBytes: number },
): SimHandler {
  const expected = crypto.createHash('sha256').update(`Bearer ${opts.token}`).digest();
  return async (req) => {
    const given = crypto
      .createHash('sha256')
      .update(req.headers.authorization ?? '')
      .digest();
    if (!crypto.timingSafeEqual(given, expected))
      return { status: 401, body: { message: 'missing or wrong bearer token' } };
    const route = `${req.method} ${req.url.pathname}`;
    try {
      switch (route) {
        case 'GET /state':
          return { status: 200, body: control.snapshot() };
        case 'GET /bundles':
          return { status: 200, body: control.bundles() };
        case 'POST /publish':
          return { status: 200, body: { components: control.publishUpdate() } };
        case 'POST /faults':
          control.injectFault(jsonBody(req) as SimFault);
          return { status: 200, body: { faults: engine.state.faults } };
        case 'DELETE /faults':
          control.clearFaults();
          return { status: 200, body: { faults: [] } };
        case 'POST /versions/manager':
          control.setManagerVersion(z.object({ siteId: z.string(), side, version: z.string() }).parse(jsonBody(req)));
          return { status: 204 };
        case 'POST /versions/agent':
          control.setAgentVersion(
            z
              .object({ siteId: z.string(), side, computerId: z.number().int(), version: z.string() })
              .parse(jsonBody(req)),
          );
          return { status: 204 };
        case 'POST /exec/dsa_control': {
          const body = z.object({ host: z.string(), args }).parse(jsonBody(req));
          return { status: 200, body: await runDsaControl(engine, { ...body, bundleSizeBytes: opts.bundleSizeBytes }) };
        }
        case 'POST /exec/dsm_c':
          return {
            status: 200,
            body: runDsmC(engine, z.object({ siteId: z.string(), side, args }).parse(jsonBody(req))),
          };
        case 'POST /rules/export': {
          const body = z.object({ siteId: z.string(), version: z.string(), folder: z.string() }).parse(jsonBody(req));
          return { status: 200, body: control.exportRuleUpdate(body) };
        }
        case 'POST /rules/import': {
          const body = z.object({ siteId: z.string(), path: z.string() }).parse(jsonBody(req));
          return { status: 200, body: await control.importRuleUpdate(body) };
        }
        default:
          return { status: 404, body: { message: `no control route ${route}` } };
      }
    } catch (err) {
      if (err instanceof SimRequestError) return { status: err.status, body: { message: err.message } };
      if (err instanceof z.ZodError) return { status: 400, body: { message: z.prettifyError(err) } };
      if (err instanceof SyntaxError) return { status: 400, body: { message: 'the request body is not valid JSON' } };
      throw err;
    }
  };
}
