import { escapeHtml, html, raw, safeHref } from '../../../src/domain/mail/html';
import { mailIdempotencyKey, messageIdFor, type MailMessage } from '../../../src/domain/mail/message';
import {
  approvalRequestMail,
  escalationMail,
  failureMail,
  formatSize,
  MailTemplateError,
  plainNoticeMail,
  manualStepMail,
  reminderMail,
  resultMail,
  RUN_OUTCOMES,
  transferInstructionsMail,
  upgradeStageMail,
  type BundleFacts,
  type MailRun,
} from '../../../src/domain/mail/templates';

const NOW = Date.UTC(2026, 10, 25, 10, 0);
const run: MailRun = {
  siteId: 'demo',
  siteName: 'Demo plant',
  workflowId: 'cycle-demo-2026-11-25T06:00',
  runId: 'demo-2026-11-25T06:00',
  kind: 'cycle',
  runUrl: 'http://127.0.0.1:8080/runs/cycle-demo-2026-11-25T06:00',
};
const bundle: BundleFacts = {
  fileName: 'ds-updates-20261125.zip',
  sha256: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
  sizeBytes: 157_286_400,
};
const link = (what: string) => `http://127.0.0.1:8080/a/${what}.token`;

/** Every mail the templates can produce, with what its subject must ask. */
function allMails(): Array<{ mail: MailMessage; asks: string }> {
  return [
    {
      mail: transferInstructionsMail({
        run,
        recipient: 'operator@demo.example',
        fileCopiedUrl: link('copied'),
        bundle,
        pickup: { relay: 'demo-dmz-relay', path: '/opt/ds_agent/relay/bundle' },
        relays: [{ name: 'demo-airgap-relay', os: 'linux', targetFolder: '/opt/ds_agent/relay/import' }],
        deadline: NOW + 86_400_000,
      }),
      asks: 'copy the bundle to the air-gapped relay',
    },
    {
      mail: reminderMail({
        run,
        to: ['operator@demo.example'],
        request: 'copy the bundle to the air-gapped relay',
        since: NOW - 4 * 3_600_000,
        now: NOW,
        reminderNumber: 1,
        link: { url: link('copied'), label: 'File copied' },
      }),
      asks: 'reminder 1',
    },
    {
      mail: escalationMail({
        run,
        to: ['shift-lead@demo.example'],
        request: 'copy the bundle to the air-gapped relay',
        askedOf: ['operator@demo.example'],
        since: NOW - 86_400_000,
        now: NOW,
        escalationNumber: 1,
      }),
      asks: 'escalation',
    },
    {
      mail: approvalRequestMail({
        run,
        recipient: 'approver@demo.example',
        approveUrl: link('approve'),
        rejectUrl: link('reject'),
        bundle,
        versions: [{ name: 'Anti-Malware pattern', version: '19.455.00', previous: '19.451.00' }],
        carriedBy: 'operator@demo.example',
        copiedAt: NOW - 3_600_000,
      }),
      asks: 'approve or reject the import of ds-updates-20261125.zip',
    },
    ...RUN_OUTCOMES.map((outcome) => ({
      mail: resultMail({ run, to: ['operator@demo.example'], outcome, at: NOW }),
      asks: outcome === 'nothing-new' ? 'nothing new' : outcome,
    })),
    {
      mail: failureMail({
        run,
        to: ['operator@demo.example'],
        stage: 'import',
        reason: 'the relay did not report the new versions within 1h',
        operatorCanDo: ['Check the relay', 'Retry the cycle with `airgap cycle retry`'],
        at: NOW,
      }),
      asks: 'failed at import',
    },
    {
      mail: manualStepMail({
        run,
        recipient: 'operator@demo.example',
        doneUrl: link('done'),
        step: { id: 'import', title: 'Import the bundle', instructions: ['Open the console', 'Download updates'] },
      }),
      asks: 'manual step: Import the bundle',
    },
    {
      mail: upgradeStageMail({
        run: { ...run, kind: 'rollout', runId: 'demo-agents-20.0', workflowId: 'rollout-demo-agents-20.0' },
        to: ['operator@demo.example'],
        stage: { id: 'canary', name: 'canary' },
        status: 'starting',
        at: NOW,
        hosts: ['demo-airgap-relay'],
      }),
      asks: 'stage canary starts',
    },
  ];
}

describe('mail templates', () => {
  it('render every purpose with a subject naming the site, the run and what is asked', () => {
    const mails = allMails();
    expect(new Set(mails.map((m) => m.mail.purpose)).size).toBe(8);
    for (const { mail, asks } of mails) {
      expect(mail.subject).toMatch(/^\[airgap demo\] (cycle demo-2026-11-25T06:00|rollout demo-agents-20\.0) — /);
      expect(mail.subject).toContain(asks);
      expect(mail.text.length).toBeGreaterThan(50);
      expect(mail.html).toMatch(/^<!doctype html>/);
      expect(mail.site).toBe('demo');
    }
  });

  it('write the example subject from the issue for transfer instructions', () => {
    expect(allMails()[0]!.mail.subject).toBe(
      '[airgap demo] cycle demo-2026-11-25T06:00 — copy the bundle to the air-gapped relay',
    );
  });

  it('put the file name, digest, size, relays, folders and the link in both bodies of the transfer instructions', () => {
    const { mail } = allMails()[0]!;
    for (const body of [mail.text, mail.html]) {
      expect(body).toContain(bundle.fileName);
      expect(body).toContain(bundle.sha256);
      expect(body).toContain('157,286,400 bytes');
      expect(body).toContain('demo-airgap-relay');
      expect(body).toContain('/opt/ds_agent/relay/import');
      expect(body).toContain(link('copied'));
      expect(body).toMatch(/Do not rename/);
    }
    expect(mail.text).toContain("sha256sum '/opt/ds_agent/relay/import/ds-updates-20261125.zip'");
    expect(mail.to).toEqual(['operator@demo.example']);
  });

  it('tell Windows relays to use Get-FileHash on a Windows path', () => {
    const mail = transferInstructionsMail({
      run,
      recipient: 'op@demo.example',
      fileCopiedUrl: link('c'),
      bundle,
      relays: [{ name: 'win-relay', os: 'windows', targetFolder: 'C:\\DS\\relay' }],
    });
    // Single quotes: PowerShell expands $ and ` inside double quotes.
    expect(mail.text).toContain("Get-FileHash -Algorithm SHA256 -LiteralPath 'C:\\DS\\relay\\ds-updates-20261125.zip'");
    expect(mail.subject).toContain('copy the bundle to the air-gapped relay');
  });

  it('give approvers both links, the versions and who carried the file', () => {
    const mail = allMails()[3]!.mail;
    for (const body of [mail.text, mail.html]) {
      expect(body).toContain(link('approve'));
      expect(body).toContain(link('reject'));
      expect(body).toContain('19.451.00 → 19.455.00');
      expect(body).toContain('operator@demo.example');
    }
  });

  it('escape HTML in every value people or systems supply, in subject-derived titles too', () => {
    const evil = '<script>alert("x")</script>&\'';
    const mail = failureMail({
      run: { ...run, siteName: evil },
      to: ['op@demo.example'],
      stage: '<b>import</b>',
      reason: evil,
      operatorCanDo: [evil],
      at: NOW,
    });
    expect(mail.html).not.toContain('<script>');
    expect(mail.html).not.toContain('<b>import</b>');
    expect(mail.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;');
    expect(mail.text).toContain(evil);
  });

  it('never put a non-http link in an href', () => {
    const mail = approvalRequestMail({
      run,
      recipient: 'approver@demo.example',
      approveUrl: 'javascript:alert(1)',
      rejectUrl: link('reject'),
      bundle,
      versions: [],
      carriedBy: 'op@demo.example',
    });
    expect(mail.html).not.toContain('href="javascript:');
    expect(mail.html).toContain('href="#"');
  });

  it('refuse to send a personal link to several people at once', () => {
    expect(() =>
      reminderMail({
        run,
        to: ['a@demo.example', 'b@demo.example'],
        request: 'copy the bundle',
        since: NOW,
        now: NOW,
        reminderNumber: 2,
        link: { url: link('x'), label: 'File copied' },
      }),
    ).toThrow(MailTemplateError);
    expect(() => resultMail({ run, to: [], outcome: 'completed', at: NOW })).toThrow(/no recipient/);
    expect(() => resultMail({ run, to: ['not an address'], outcome: 'completed', at: NOW })).toThrow(
      /not an email address/,
    );
  });

  it('keep line breaks out of subjects', () => {
    const mail = manualStepMail({
      run,
      recipient: 'op@demo.example',
      doneUrl: link('d'),
      step: { id: 's', title: 'Import\r\nBcc: victim@example.com', instructions: ['x'] },
    });
    expect(mail.subject).not.toMatch(/[\r\n]/);
  });

  it('give each mail an idempotency key that repeats for the same mail and differs between repeats', () => {
    const reminder = (n: number) =>
      reminderMail({ run, to: ['op@demo.example'], request: 'x', since: NOW, now: NOW, reminderNumber: n });
    expect(reminder(1).idempotencyKey).toBe(reminder(1).idempotencyKey);
    expect(reminder(1).idempotencyKey).not.toBe(reminder(2).idempotencyKey);
    const keys = allMails().map((m) => m.mail.idempotencyKey);
    expect(new Set(keys).size).toBe(keys.length);
    expect(mailIdempotencyKey({ workflowId: 'w', purpose: 'result', to: ['B@x.example', 'a@x.example'] })).toBe(
      mailIdempotencyKey({ workflowId: 'w', purpose: 'result', to: ['a@x.example', 'b@x.example'] }),
    );
  });

  it('derive a Message-ID from the idempotency key at the sender domain', () => {
    const id = messageIdFor('w/result/a@x.example', 'airgap <airgap@plant.example>');
    expect(id).toMatch(/^<airgap\.[0-9a-f]{40}@plant\.example>$/);
    expect(messageIdFor('w/result/a@x.example', 'airgap@plant.example')).toBe(id);
    expect(messageIdFor('w/result/b@x.example', 'airgap@plant.example')).not.toBe(id);
  });

  it('say sizes the way people compare them', () => {
    expect(formatSize(512)).toBe('512 bytes');
    expect(formatSize(1_572_864)).toBe('1.5 MB (1,572,864 bytes)');
  });
});

describe('the html helper', () => {
  it('escapes interpolated values but not nested templates or raw constants', () => {
    const name = '<i>&"\'';
    expect(html`<p>${name}</p>`.value).toBe('<p>&lt;i&gt;&amp;&quot;&#39;</p>');
    expect(html`<div>${html`<p>${name}</p>`}${raw('<hr>')}</div>`.value).toBe(
      '<div><p>&lt;i&gt;&amp;&quot;&#39;</p><hr></div>',
    );
    expect(html`${[1, 'a<', null, undefined, false]}`.value).toBe('1a&lt;');
    expect(escapeHtml('a&b')).toBe('a&amp;b');
  });

  it('lets only http(s) URLs and local paths through as hrefs', () => {
    expect(safeHref('https://x.example/a')).toBe('https://x.example/a');
    expect(safeHref('/runs/1')).toBe('/runs/1');
    for (const bad of ['javascript:alert(1)', '//evil.example', '/\\evil.example', 'data:text/html,x']) {
      expect(safeHref(bad)).toBe('#');
    }
  });
});

describe("a run's final notice", () => {
  const KINDS: MailRun['kind'][] = ['cycle', 'rule transfer', 'hardening', 'rollout'];
  const OUTCOMES = ['aborted', 'expired', 'rejected', 'cancelled', 'failed', 'completed'] as const;
  const others = (outcome: string) =>
    OUTCOMES.filter((o) => o !== outcome && !(outcome === 'completed' && o === 'failed'));
  const runOf = (kind: MailRun['kind']): MailRun => ({ ...run, kind, runId: `${kind.replace(' ', '-')}-demo-1` });

  it("states the run's own outcome in subject and body, and no other, for every kind × outcome (result mail)", () => {
    for (const kind of KINDS) {
      for (const outcome of OUTCOMES) {
        const mail = resultMail({ run: runOf(kind), to: ['op@demo.example'], outcome, at: NOW });
        const subject = mail.subject.split(' — ')[1]!;
        expect([kind, outcome, subject.startsWith(`${kind} ${outcome}`)]).toEqual([kind, outcome, true]);
        const lead = mail.text.split('\n')[0]!;
        expect(lead).toContain(`The ${kind} `);
        expect(lead).toMatch(new RegExp(`\\b${outcome === 'completed' ? 'completed' : outcome}\\b`));
        expect(mail.text).toMatch(new RegExp(`Outcome: +${outcome}\\n`));
        for (const other of others(outcome))
          expect([kind, outcome, subject.includes(other)]).toEqual([kind, outcome, false]);
      }
    }
  });

  it('states the outcome in a plain notice too (rule transfer, hardening, rollout), whatever its lead says', () => {
    for (const kind of KINDS) {
      for (const outcome of OUTCOMES) {
        const mail = plainNoticeMail({
          run: runOf(kind),
          to: ['op@demo.example'],
          purpose: outcome === 'failed' ? 'failure' : 'result',
          ask: 'stage rollout U1 → U2 → U3 → U4 → U5 failed',
          lead: 'Something happened.',
          outcome,
        });
        const subject = mail.subject.split(' — ')[1]!;
        expect([kind, outcome, subject]).toEqual([
          kind,
          outcome,
          expect.stringMatching(new RegExp(`^${kind} ${outcome}`)),
        ]);
        expect(mail.text.split('\n')[0]).toContain(`The ${kind} `);
        expect(mail.text).toMatch(new RegExp(`Outcome: +${outcome}\\n`));
        expect(mail.html).toContain(`>${outcome}</td>`);
      }
    }
  });

  it('names an aborted rollout aborted, not failed, and who aborted it', () => {
    const mail = resultMail({
      run: runOf('rollout'),
      to: ['op@demo.example'],
      outcome: 'aborted',
      by: 'lead@demo.example',
      reason: 'maintenance window cancelled',
      at: NOW,
    });
    expect(mail.subject).toBe('[airgap demo] rollout rollout-demo-1 — rollout aborted by lead@demo.example');
    expect(mail.text).not.toMatch(/failed/);
  });

  it('refuses an outcome it does not know rather than mailing it as another', () => {
    expect(() =>
      resultMail({ run, to: ['op@demo.example'], outcome: 'drifted' as unknown as 'completed', at: NOW }),
    ).toThrow(/"drifted" is not an outcome/);
  });
});
