/**
 * Manager API activities of the rule transfer (R1–R3): the rule update level each manager's
 * computers report, and the wait until the air-gapped manager reports an imported update. They
 * run where the manager can be reached (control worker, or its zone's worker).
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { ruleUpdateLevel } from '../domain/rules';
import { compareRuleUpdates } from '../domain/versions';
import { call, componentsOf, type ManagerDeps } from './manager-activities';
import type { ManagerSide } from './types';

export interface RuleLevelInput {
  site: string;
  side: ManagerSide;
  computerIds: number[];
}

export interface RuleLevel {
  /** The highest "Deep Security Rule Update" the computers report; absent when none reports one. */
  level?: string;
  perComputer: { computerId: number; ruleUpdate?: string }[];
}

export interface AwaitRuleUpdateInput {
  site: string;
  computerIds: number[];
  /** The rule update the manager must report (or a newer one). */
  expect: string;
  pollInterval: number;
  timeout: number;
}

export function createRulesActivities(deps: ManagerDeps) {
  const sleep = deps.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));

  async function level(input: RuleLevelInput): Promise<RuleLevel> {
    const perComputer: RuleLevel['perComputer'] = [];
    const lists = [];
    for (const computerId of input.computerIds) {
      const c = await call(`reading computer ${computerId} on the ${input.side} manager of ${input.site}`, () =>
        deps.api(input.site, input.side).getComputer({ computerId }),
      );
      const components = componentsOf(c);
      lists.push(components);
      const ruleUpdate = ruleUpdateLevel([components]);
      perComputer.push(ruleUpdate ? { computerId, ruleUpdate } : { computerId });
    }
    const found = ruleUpdateLevel(lists);
    return found ? { level: found, perComputer } : { perComputer };
  }

  return {
    readRuleUpdateLevel: level,

    /**
     * Polls until the air-gapped manager's computers report `expect` or newer. The deadline
     * survives retries through the heartbeat details.
     */
    async awaitRuleUpdate(input: AwaitRuleUpdateInput): Promise<RuleLevel & { level: string }> {
      const ctx = Context.current();
      const startedAt = (ctx.info.heartbeatDetails as { startedAt?: number } | undefined)?.startedAt ?? Date.now();
      for (;;) {
        const seen = await level({ site: input.site, side: 'airgapped', computerIds: input.computerIds });
        ctx.heartbeat({ startedAt, level: seen.level });
        if (seen.level && compareRuleUpdates(seen.level, input.expect) >= 0) return { ...seen, level: seen.level };
        if (Date.now() - startedAt > input.timeout) {
          throw ApplicationFailure.nonRetryable(
            `the air-gapped manager does not report rule update ${input.expect} within ${Math.round(input.timeout / 1000)} s ` +
              `(it reports ${seen.level ?? 'none'}); check the import in Administration → Updates → Security → Rules`,
            'RuleImportTimedOut',
          );
        }
        await sleep(input.pollInterval);
      }
    },
  };
}
