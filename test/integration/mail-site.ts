/**
 * What the end-to-end tests of the mail links share: a simulated site whose workers mail through a
 * real SMTP server (config `mail.smtp`), and the real web app (startWebServer) on the port the mail
 * links point at, against the test run's Temporal server.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { startWebServer, type RunningWeb } from '../../src/runtime/web-server';
import { carryBundle } from '../../src/sim';
import { fileCopiedUpdate, type CycleView } from '../../src/workflows/cycle-messages';
import { digestPrefix } from '../helpers/cycle-assert';
import { startCycleStack, type CycleStack, type StackOptions } from '../helpers/cycle-stack';
import { actionUrl, startSmtpCatcher, type CaughtMail, type SmtpCatcher } from '../helpers/smtp-catcher';

export const OPERATOR = 'operator@plant.example';
export const APPROVER = 'approver@plant.example';
export const SECOND_APPROVER = 'second@plant.example';

export interface MailSite {
  smtp: SmtpCatcher;
  stack: CycleStack;
  web: RunningWeb;
  /** A new cycle with something new to carry, waiting for the transfer; its transfer mail. */
  startCycle(): Promise<{ handle: WorkflowHandle; view: CycleView; transferMail: CaughtMail }>;
  /** Carries the bundle and says "file copied" with the Update the CLI sends. */
  copyAndConfirm(handle: WorkflowHandle, view: CycleView): Promise<void>;
  /** The approval-request mail of this cycle sent to `recipient`. */
  approvalMail(handle: WorkflowHandle, recipient?: string): Promise<CaughtMail>;
  /** The human.* record types the audit holds for this cycle. */
  humanRecords(handle: WorkflowHandle): Promise<string[]>;
  close(): Promise<void>;
}

export async function startMailSite(options: StackOptions = {}): Promise<MailSite> {
  const smtp = await startSmtpCatcher();
  let stack: CycleStack | undefined;
  try {
    stack = await startCycleStack({
      approval: { policy: 'any' },
      ...options,
      mail: { from: 'airgap <airgap@plant.example>', smtp: { host: '127.0.0.1', port: smtp.port } },
    });
    const web = await startWebServer({ config: stack.config, client: stack.client, env: stack.env });
    const s = stack;
    return {
      smtp,
      stack: s,
      web,
      async startCycle() {
        s.sim.control.publishUpdate();
        const handle = await s.startCycle();
        const view = await s.waitFor(handle, (v) => v.state === 'awaiting-transfer');
        const [transferMail] = await smtp.waitFor(
          'transfer',
          (m) => m.workflowId === handle.workflowId && m.purpose === 'transfer-instructions',
        );
        return { handle, view, transferMail: transferMail! };
      },
      async copyAndConfirm(handle, view) {
        await carryBundle({ bundlePath: view.bundle!.path, relays: s.site.airgapped.relays });
        await handle.executeUpdate(fileCopiedUpdate, {
          args: [{ by: OPERATOR, sha256: digestPrefix(view.bundle!.sha256) }],
        });
      },
      async approvalMail(handle, recipient = APPROVER) {
        const [mail] = await smtp.waitFor(
          `approval request to ${recipient}`,
          (m) =>
            m.workflowId === handle.workflowId && m.purpose === 'approval-request' && m.envelopeTo.includes(recipient),
        );
        return mail!;
      },
      async humanRecords(handle) {
        return (await s.audit.timeline(handle.workflowId)).map((r) => r.type).filter((t) => t.startsWith('human.'));
      },
      async close() {
        await web.close();
        await s.close();
        await smtp.close();
      },
    };
  } catch (err) {
    await stack?.close();
    await smtp.close();
    throw err;
  }
}

/** The approve and reject links of an approval mail. */
export function decisionLinks(mail: CaughtMail): { approve: string; reject: string } {
  return { approve: actionUrl(mail.mail, 'Approve the import'), reject: actionUrl(mail.mail, 'Reject the import') };
}
