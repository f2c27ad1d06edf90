/**
 * The simulated world's behaviour: update server publications, security-update tasks, the
 * air-gapped relay's import from its install dir, distribution to agents, faults. Every change is
 * saved at once; delayed work is kept as pending jobs in the state so a restart resumes it.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { compareRuleUpdates, compareVersions, isRuleUpdate } from '../domain/versions';
import { unpackBundle, type BundleManifest } from './bundle';
import { COMPONENTS, highest, mergeNewer, newerKeys, nextComponents, type ComponentSet } from './components';
import { activate, consume, simFaultSchema, type SimFault } from './faults';
import { buildRuleFile, readRuleFileHeader, ruleFileName, type RuleFileSummary } from './rule-files';
import {
  managerKey,
  saveState,
  type BundleRecord,
  type PendingJob,
  type RuleFileRecord,
  type SimComputer,
  type SimManager,
  type SimState,
  type Side,
} from './state';

export interface EngineOptions {
  stateFile: string;
  importDelayMs: number;
  now: () => number;
}

/** Thrown for a request the simulated world refuses (unknown computer, bad version…); becomes a 4xx or an exit code. */
export class SimRequestError extends Error {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = 'SimRequestError';
  }
}

export class SimEngine {
  private timer: NodeJS.Timeout | undefined;
  private work: Promise<void> = Promise.resolve();
  private exclusiveChain: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(
    readonly state: SimState,
    private readonly opts: EngineOptions,
  ) {}

  get now(): number {
    return this.opts.now();
  }

  save(): void {
    saveState(this.opts.stateFile, this.state);
  }

  manager(siteId: string, side: Side): SimManager {
    const m = this.state.managers[managerKey({ siteId, side })];
    if (!m) throw new SimRequestError(`no simulated ${side} manager for site ${siteId}`, 404);
    return m;
  }

  computer(manager: SimManager, id: number): SimComputer {
    const c = manager.computers[id];
    if (!c) throw new SimRequestError(`Unable to find the computer with ID ${id}`, 404);
    return c;
  }

  /** A relay (DMZ or air-gapped) by its host name. */
  relayByName(name: string): { manager: SimManager; computer: SimComputer } | undefined {
    for (const manager of Object.values(this.state.managers)) {
      const computer = Object.values(manager.computers).find((c) => c.role === 'relay' && c.hostName === name);
      if (computer) return { manager, computer };
    }
    return undefined;
  }

  /** Per component, the newest version this manager has seen on any of its relays. */
  latestKnown(manager: SimManager): ComponentSet {
    if (manager.side === 'dmz') return this.state.internet.components;
    const relays = Object.values(manager.computers).filter((c) => c.role === 'relay');
    return highest(
      relays.map((r) => r.components),
      relays[0]?.components ?? this.state.internet.components,
    );
  }

  // ---- the update server ------------------------------------------------------------------

  /** New patterns and the next rule update; the DMZ relays pull them at once (they have internet). */
  publishUpdate(): ComponentSet {
    const next = nextComponents(this.state.internet.components, this.now);
    this.state.internet = { components: next, publishedAt: this.now };
    for (const m of Object.values(this.state.managers).filter((x) => x.side === 'dmz')) {
      for (const relay of Object.values(m.computers).filter((c) => c.role === 'relay' && c.online)) {
        this.setComponents(relay, next, 'Security Update: Up-to-date');
      }
    }
    this.save();
    return next;
  }

  // ---- security update tasks ----------------------------------------------------------------

  createTask(
    manager: SimManager,
    input: { name: string; computerId: number; timeout: string; startTime: number; runNow: boolean },
  ): { id: number; ranNow: boolean } {
    this.computer(manager, input.computerId);
    const id = manager.nextTaskId++;
    manager.tasks[id] = {
      id,
      name: input.name,
      computerId: input.computerId,
      timeout: input.timeout,
      startTime: input.startTime,
    };
    const ranNow = input.runNow || input.startTime <= this.now;
    if (ranNow) this.runTask(manager, id);
    else this.schedule({ kind: 'run-task', manager: managerKey(manager), taskId: id }, input.startTime - this.now);
    this.save();
    return { id, ranNow };
  }

  /** A run-once task runs, then is deleted (as the manager does). */
  private runTask(manager: SimManager, taskId: number): void {
    const task = manager.tasks[taskId];
    if (!task) return;
    delete manager.tasks[taskId];
    const computer = manager.computers[task.computerId];
    if (computer) this.checkForSecurityUpdates(manager, computer);
  }

  /** What a computer does when told to check for security updates. */
  private checkForSecurityUpdates(manager: SimManager, c: SimComputer): void {
    // An offline computer never receives the instruction: nothing changes.
    if (!c.online) return;
    const key = managerKey(manager);
    if (
      this.state.pending.some((p) => p.job.kind !== 'run-task' && p.job.manager === key && p.job.computerId === c.id)
    ) {
      return; // already updating
    }
    c.updateStatus = { status: 'in-progress', statusMessage: 'Security Update: In progress' };
    if (c.role === 'agent') {
      const relay = c.relayId === undefined ? undefined : manager.computers[c.relayId];
      const components = relay?.components ?? this.state.internet.components;
      this.schedule({ kind: 'apply-components', manager: key, computerId: c.id, components }, this.opts.importDelayMs);
    } else if (manager.side === 'dmz') {
      const components = this.state.internet.components;
      this.schedule({ kind: 'apply-components', manager: key, computerId: c.id, components }, this.opts.importDelayMs);
    } else {
      const slow = consume(this.state.faults, 'slow-import', (f) => f.relay === undefined || f.relay === c.hostName);
      this.schedule(
        { kind: 'relay-import', manager: key, computerId: c.id },
        this.opts.importDelayMs + (slow?.extraMs ?? 0),
      );
    }
  }

  /**
   * The air-gapped relay cannot reach its update source, so it looks in its install dir for a zip
   * that dsa_control produced, under its exact original name and with its exact content.
   */
  private async relayImport(manager: SimManager, relay: SimComputer): Promise<void> {
    if (!relay.online) return this.fail(relay, 'Security Update failed: the relay went offline during the update.');
    const failed = consume(
      this.state.faults,
      'failed-import',
      (f) => f.relay === undefined || f.relay === relay.hostName,
    );
    if (failed)
      return this.fail(relay, 'Security Update failed: the relay could not apply the updates (simulated failure).');
    const found = await this.scanInstallDir(relay.installDir ?? '');
    const best = found.valid.sort((a, b) => compareSets(b.manifest.components, a.manifest.components))[0];
    if (best) {
      const newer = newerKeys(best.manifest.components, relay.components);
      if (newer.length === 0) {
        relay.updateStatus = {
          status: 'up-to-date',
          statusMessage: `Security Update: Up-to-date (${best.record.fileName} holds nothing newer)`,
        };
        relay.lastChanged = this.now;
        return;
      }
      this.setComponents(
        relay,
        best.manifest.components,
        `Security Update: Up-to-date (imported ${best.record.fileName})`,
      );
      relay.importLog = [...(relay.importLog ?? []), { fileName: best.record.fileName, at: this.now }];
      this.distributeToAgents(manager, relay);
      return;
    }
    const [corrupt] = found.corrupt;
    if (corrupt) {
      return this.fail(
        relay,
        `Security Update failed: the update bundle ${corrupt} in ${relay.installDir} is corrupt or incomplete.`,
      );
    }
    const source = this.updateSource(manager);
    this.fail(
      relay,
      `Security Update failed: unable to connect to the update source (${source}) and no update bundle was found in ${relay.installDir}.`,
    );
  }

  private async scanInstallDir(
    dir: string,
  ): Promise<{ valid: { record: BundleRecord; manifest: BundleManifest }[]; corrupt: string[] }> {
    const valid: { record: BundleRecord; manifest: BundleManifest }[] = [];
    const corrupt: string[] = [];
    let names: string[];
    try {
      names = (await fs.promises.readdir(dir, { withFileTypes: true })).filter((d) => d.isFile()).map((d) => d.name);
    } catch {
      return { valid, corrupt };
    }
    for (const name of names) {
      const record = [...this.state.bundles].reverse().find((b) => b.fileName === name);
      if (!record) continue;
      const data = await fs.promises.readFile(path.join(dir, name));
      if (crypto.createHash('sha256').update(data).digest('hex') !== record.sha256) {
        corrupt.push(name);
        continue;
      }
      try {
        valid.push({ record, manifest: unpackBundle(data) });
      } catch {
        corrupt.push(name);
      }
    }
    return { valid, corrupt };
  }

  private updateSource(manager: SimManager): string {
    const mode = manager.systemSettings.platformSettingUpdateSecurityPrimarySourceMode ?? '';
    const url = manager.systemSettings.platformSettingUpdateSecurityPrimarySourceUrl ?? '';
    return mode === 'Trend Micro ActiveUpdate Server' || url === '' ? mode : url;
  }

  private distributeToAgents(manager: SimManager, relay: SimComputer): void {
    for (const agent of Object.values(manager.computers).filter((c) => c.relayId === relay.id && c.online)) {
      if (newerKeys(relay.components, agent.components).length === 0) continue;
      agent.updateStatus = {
        status: 'out-of-date',
        statusMessage: 'Security Update: updates available from the relay',
      };
      this.schedule(
        { kind: 'apply-components', manager: managerKey(manager), computerId: agent.id, components: relay.components },
        this.opts.importDelayMs,
      );
    }
  }

  private setComponents(c: SimComputer, components: ComponentSet, message: string): void {
    c.components = mergeNewer(c.components, components);
    c.updateStatus = { status: 'up-to-date', statusMessage: message };
    c.lastChanged = this.now;
  }

  private fail(c: SimComputer, message: string): void {
    c.updateStatus = { status: 'failed', statusMessage: message };
    c.lastChanged = this.now;
  }

  // ---- pending work -------------------------------------------------------------------------

  private schedule(job: PendingJob, delayMs: number): void {
    this.state.pending.push({ id: crypto.randomUUID(), dueAt: this.now + Math.max(0, delayMs), job });
    this.arm();
  }

  /** Starts (or resumes after a restart) the pending jobs. */
  start(): void {
    this.stopped = false;
    this.arm();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.work;
  }

  /** Resolves once no job is pending or running (imports and distributions are done). */
  async settle(timeoutMs = 30_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.state.pending.length > 0 && !this.stopped) {
      if (Date.now() > until)
        throw new Error(`simulator still has ${this.state.pending.length} pending job(s) after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
      await this.work;
    }
    await this.work;
  }

  private arm(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.state.pending.length === 0) return;
    const next = Math.min(...this.state.pending.map((p) => p.dueAt));
    // setTimeout cannot wait longer than 2^31-1 ms; waking early only re-arms.
    this.timer = setTimeout(() => this.enqueueDue(), Math.min(2 ** 31 - 1, Math.max(0, next - this.now)));
  }

  private enqueueDue(): void {
    this.timer = undefined;
    this.work = this.work.then(async () => {
      const due = this.state.pending.filter((p) => p.dueAt <= this.now);
      for (const p of due) {
        if (this.stopped) return;
        this.state.pending = this.state.pending.filter((x) => x.id !== p.id);
        try {
          await this.runJob(p.job);
        } catch (err) {
          process.stderr.write(`simulator: job ${p.job.kind} failed: ${(err as Error).message}\n`);
        }
        this.save();
      }
      this.arm();
    });
  }

  private async runJob(job: PendingJob): Promise<void> {
    const manager = this.state.managers[job.manager];
    if (!manager) return;
    if (job.kind === 'run-task') return this.runTask(manager, job.taskId);
    const c = manager.computers[job.computerId];
    if (!c) return;
    if (job.kind === 'relay-import') return this.relayImport(manager, c);
    if (!c.online) return this.fail(c, 'Security Update failed: the computer went offline during the update.');
    this.setComponents(c, job.components, 'Security Update: Up-to-date');
  }

  // ---- rule updates (.dsru), R1–R3 ----------------------------------------------------------

  /** R1: the DMZ manager exports one rule update it has, into `folder` (the person's downloads). */
  exportRuleUpdate(input: { siteId: string; version: string; folder: string }): RuleFileRecord {
    const dmz = this.manager(input.siteId, 'dmz');
    if (!isRuleUpdate(input.version)) {
      throw new SimRequestError(`"${input.version}" is not a rule update id such as 26-047`);
    }
    const newest = this.latestKnown(dmz).ruleUpdate;
    if (compareRuleUpdates(input.version, newest) > 0) {
      throw new SimRequestError(`the DMZ manager has no rule update ${input.version} (newest: ${newest})`, 404);
    }
    if (!path.isAbsolute(input.folder)) throw new SimRequestError(`folder must be absolute, got ${input.folder}`);
    const { data } = buildRuleFile(input.version);
    fs.mkdirSync(input.folder, { recursive: true });
    const file = path.join(input.folder, ruleFileName(input.version));
    fs.writeFileSync(file, data);
    const record: RuleFileRecord = {
      fileName: path.basename(file),
      path: file,
      version: input.version,
      sha256: crypto.createHash('sha256').update(data).digest('hex'),
      size: data.length,
      siteId: input.siteId,
      exportedAt: this.now,
    };
    (this.state.ruleFiles ??= []).push(record);
    this.save();
    return record;
  }

  /**
   * R3: a person imports a .dsru in the air-gapped manager's console. The manager validates it
   * (only an unchanged file a DMZ manager exported), refuses one not newer than the rule update it
   * has, and shows the summary; its computers report the new rule update after the import delay.
   */
  async importRuleUpdate(input: {
    siteId: string;
    path: string;
  }): Promise<{ fileName: string; version: string; summary: RuleFileSummary }> {
    const manager = this.manager(input.siteId, 'airgapped');
    const fileName = path.basename(input.path);
    let data: Buffer;
    try {
      data = await fs.promises.readFile(input.path);
    } catch (err) {
      throw new SimRequestError(`cannot read ${input.path}: ${(err as Error).message}`);
    }
    const sha256 = crypto.createHash('sha256').update(data).digest('hex');
    const record = (this.state.ruleFiles ?? []).find((r) => r.sha256 === sha256);
    const summary = readRuleFileHeader(data);
    if (!record || !summary || summary.version !== record.version) {
      throw new SimRequestError(`${fileName} is not a valid Deep Security rule update (validation failed)`, 422);
    }
    const current = this.latestKnown(manager).ruleUpdate;
    if (compareRuleUpdates(record.version, current) <= 0) {
      throw new SimRequestError(
        `rule update ${record.version} is not newer than ${current}, which the manager already has`,
        409,
      );
    }
    (manager.ruleImports ??= []).push({ version: record.version, fileName, at: this.now });
    for (const c of Object.values(manager.computers)) {
      this.schedule(
        {
          kind: 'apply-components',
          manager: managerKey(manager),
          computerId: c.id,
          components: { ...c.components, ruleUpdate: record.version },
        },
        this.opts.importDelayMs,
      );
    }
    this.save();
    return { fileName, version: record.version, summary };
  }

  // ---- bundles, faults, versions ------------------------------------------------------------

  /** Runs `fn` after every earlier exclusive call finished (one bundle build at a time, as the agent does). */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.exclusiveChain.then(fn, fn);
    this.exclusiveChain = run.catch(() => undefined);
    return run;
  }

  recordBundle(record: BundleRecord): void {
    this.state.bundles.push(record);
    this.save();
  }

  injectFault(input: SimFault): void {
    const fault = simFaultSchema.parse(input);
    if (fault.kind === 'relay-offline') {
      const found = this.relayByName(fault.relay);
      if (!found) throw new SimRequestError(`no simulated relay named ${fault.relay}`, 404);
      found.computer.online = !fault.offline;
    } else this.state.faults.push(activate(fault));
    this.save();
  }

  clearFaults(): void {
    this.state.faults = [];
    for (const m of Object.values(this.state.managers)) for (const c of Object.values(m.computers)) c.online = true;
    this.save();
  }

  setManagerVersion(input: { siteId: string; side: Side; version: string }): void {
    assertVersion(input.version);
    this.manager(input.siteId, input.side).version = input.version;
    this.save();
  }

  setAgentVersion(input: { siteId: string; side: Side; computerId: number; version: string }): void {
    assertVersion(input.version);
    this.computer(this.manager(input.siteId, input.side), input.computerId).agentVersion = input.version;
    this.save();
  }

  /** Many computers at once, saved once: a fleet of thousands is upgraded in one step. */
  setAgentVersions(input: { siteId: string; side: Side; computerIds: number[]; version: string }): void {
    assertVersion(input.version);
    const manager = this.manager(input.siteId, input.side);
    const computers = input.computerIds.map((id) => this.computer(manager, id));
    for (const c of computers) c.agentVersion = input.version;
    this.save();
  }
}

function assertVersion(version: string): void {
  try {
    compareVersions(version, '0');
  } catch (err) {
    throw new SimRequestError((err as Error).message);
  }
}

/** Orders bundles by rule update, then by the other components. */
function compareSets(a: ComponentSet, b: ComponentSet): number {
  for (const key of ['ruleUpdate', ...COMPONENTS.map((c) => c.key).filter((k) => k !== 'ruleUpdate')] as const) {
    const d = compareVersions(a[key], b[key]);
    if (d !== 0) return d;
  }
  return 0;
}
