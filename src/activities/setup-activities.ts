/**
 * Control-worker activities of the rule transfer and the hardening: what each run needs from the
 * configuration, taken once when it starts (and so frozen into its history, like the cycle's plan).
 */
import { ApplicationFailure } from '@temporalio/common';
import { findSite, type AppConfig, type SiteConfig } from '../domain/config';
import type { HardeningPlan } from '../domain/hardening';
import type { RulesPlan } from '../domain/rules';
import { hardeningPlanFrom, rulesPlanFrom } from '../domain/setup-plans';

export function createSetupActivities(deps: { config: AppConfig }) {
  const site = (id: string): SiteConfig => {
    const found = findSite(deps.config, id);
    if (!found) {
      const known = deps.config.sites.map((s) => s.id).join(', ');
      throw ApplicationFailure.nonRetryable(`unknown site "${id}" (configured: ${known})`, 'UnknownSite');
    }
    return found;
  };
  return {
    async loadRulesPlan(input: { site: string }): Promise<RulesPlan> {
      return rulesPlanFrom(site(input.site), deps.config.temporal.taskQueue);
    },
    async loadHardeningPlan(input: { site: string }): Promise<HardeningPlan> {
      return hardeningPlanFrom(site(input.site), deps.config.temporal.taskQueue);
    },
  };
}
