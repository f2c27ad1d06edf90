/**
 * What a person is asked to do in each guided step of an upgrade rollout: the manager installers
 * (U1, U3), the relay and agent software upgrades (U2, U4, U5 waves) and the approvals. Console
 * paths follow Deep Security 20; the rollout verifies the result through the manager API, so a
 * wrong click is caught by the verification, not trusted.
 */
import { stageLabel, STAGE_SPECS, type StageId } from './upgrade-stages';

export interface StepText {
  title: string;
  instructions: string[];
}

export interface StepContext {
  rolloutId: string;
  stage: StageId;
  target: string;
  /** What the stage's hosts report now. */
  seen?: string;
  /** Relays or agents the step is about (host names). */
  hosts?: string[];
}

const confirmLine = (c: StepContext) =>
  `Then confirm here, or run: airgap upgrade confirm ${c.rolloutId} --stage ${c.stage} --by <you>. ` +
  'The rollout checks the version through the manager API before it moves on.';

export function approvalText(c: StepContext): StepText {
  return {
    title: `approve upgrade stage ${stageLabel(c.stage)} to ${c.target}`,
    instructions: [
      `The rollout is about to upgrade ${STAGE_SPECS[c.stage].title} to ${c.target}${c.seen ? ` (now ${c.seen})` : ''}.`,
      'Every earlier stage is verified at its target version.',
      `Approve here, or run: airgap upgrade confirm ${c.rolloutId} --stage ${c.stage} --by <you>.`,
      `To refuse, abort the rollout: airgap upgrade abort ${c.rolloutId} --by <you> --reason <why>.`,
    ],
  };
}

export function upgradeText(c: StepContext): StepText {
  const spec = STAGE_SPECS[c.stage];
  const side = spec.side === 'dmz' ? 'DMZ' : 'air-gapped';
  const hosts = c.hosts ?? [];
  if (spec.component === 'manager') {
    return {
      title: `upgrade the ${side} Manager (and its database) to ${c.target}`,
      instructions: [
        `Back up the ${side} Manager's database.`,
        ...(spec.side === 'airgapped'
          ? ['Carry the Deep Security Manager installer across the gap; check its SHA-256 against the vendor page.']
          : []),
        `If the release notes of ${c.target} require a newer database, upgrade the database software first.`,
        `Run the Deep Security Manager ${c.target} installer on the ${side} Manager host (upgrade in place).`,
        `Sign in: Administration → System Information must show ${c.target}${c.seen ? ` (it shows ${c.seen} now)` : ''}.`,
        confirmLine(c),
      ],
    };
  }
  const what = spec.component === 'relay' ? 'relay' : 'agent';
  return {
    title: `upgrade the ${side} ${what} software of ${hosts.length === 1 ? hosts[0] : `${hosts.length} computer(s)`} to ${c.target}`,
    instructions: [
      ...(spec.side === 'airgapped'
        ? [
            `Make sure the agent package ${c.target} is imported on the air-gapped Manager (Administration → Updates → Software → Local → Import).`,
          ]
        : [
            `Make sure the agent package ${c.target} is available on the DMZ Manager (Administration → Updates → Software).`,
          ]),
      `On the ${side} Manager: Computers → select ${hosts.length === 1 ? hosts[0] : 'the computers listed below'} → Actions → Upgrade Agent Software → ${c.target}.`,
      ...(hosts.length > 1 ? hosts.map((h) => `  ${h}`) : []),
      confirmLine(c),
    ],
  };
}
