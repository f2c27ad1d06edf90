/**
 * A wait's reminders come from one activity on the control worker (issue 16: a week of reminders
 * made a run's history ~12 events per reminder): they still go out on time by mail, are audited,
 * the deadline still ends the wait, and a worker killed mid-wait resumes the count.
 */
import { temporal } from '@temporalio/proto';
import { spawnWorker } from '../helpers/child-worker';
import { startCycleStack, type CycleStack } from '../helpers/cycle-stack';
import { recordHistory } from '../helpers/record-history';
import { startSmtpCatcher, type SmtpCatcher } from '../helpers/smtp-catcher';

jest.setTimeout(180_000);
const EventType = temporal.api.enums.v1.EventType;

describe('a transfer nobody copies, reminded by the control worker', () => {
  let smtp: SmtpCatcher;
  let stack: CycleStack;
  beforeAll(async () => {
    smtp = await startSmtpCatcher();
    stack = await startCycleStack({
      waits: { reminderEvery: '1s', escalateAfter: '2500ms', deadline: '5500ms' },
      mail: { from: 'airgap <airgap@plant.example>', smtp: { host: '127.0.0.1', port: smtp.port } },
    });
  });
  afterAll(async () => {
    await stack?.close();
    await smtp?.close();
  });

  it('mails and audits each reminder and the escalation on time, then expires at the deadline', async () => {
    stack.sim.control.publishUpdate();
    const handle = await stack.startCycle();
    const waiting = await stack.waitFor(handle, (v) => v.state === 'awaiting-transfer', 60_000);
    const since = Date.parse(waiting.waitingFor!.since);
    expect(waiting.waitingFor!.reminders).toMatchObject({ by: 'control-worker' });

    const result = (await handle.result()) as { state: string };
    expect(result.state).toBe('expired');

    const mine = smtp.received.filter((m) => m.workflowId === handle.workflowId);
    const reminders = mine.filter((m) => m.purpose === 'reminder');
    const escalations = mine.filter((m) => m.purpose === 'escalation');
    // Reminders at 1 s … 5 s, the escalation at 2.5 s, nothing at or after the 5.5 s deadline.
    expect(reminders).toHaveLength(5);
    expect(escalations).toHaveLength(1);

    const records = await stack.audit.timeline(handle.workflowId);
    const reminded = records.filter((r) => r.type === 'wait.reminder');
    expect(reminded.map((r) => r.data!.remindersSent)).toEqual([1, 2, 3, 4, 5]);
    reminded.forEach((r, i) => {
      const late = Date.parse(r.at) - (since + (i + 1) * 1000);
      expect(late).toBeGreaterThanOrEqual(0);
      expect(late).toBeLessThan(1000);
    });
    expect(records.filter((r) => r.type === 'wait.escalation')).toHaveLength(1);
    expect(records.at(-1)).toMatchObject({ type: 'cycle.ended', outcome: 'expired' });

    // One reminder activity for the whole wait; no timer or notify activity per reminder.
    const events = (await handle.fetchHistory()).events ?? [];
    const scheduled = events
      .filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
      .map((e) => e.activityTaskScheduledEventAttributes!.activityType!.name);
    expect(scheduled.filter((n) => n === 'remindPeople')).toHaveLength(1);
    expect(events.filter((e) => e.eventType === EventType.EVENT_TYPE_TIMER_STARTED)).toHaveLength(1);
    await recordHistory(handle, 'cycle-expired-reminded-by-activity');
  });
});

describe('a worker killed while a transfer waits with reminders', () => {
  let stack: CycleStack;
  beforeAll(async () => {
    stack = await startCycleStack({
      workers: false,
      waits: { reminderEvery: '1s', escalateAfter: '1h', deadline: '25s' },
    });
  });
  afterAll(() => stack.close());

  it('goes on counting its reminders on the new worker, none lost and none sent twice', async () => {
    const first = spawnWorker(stack.configFile, stack.env);
    let second: ReturnType<typeof spawnWorker> | undefined;
    try {
      stack.sim.control.publishUpdate();
      const handle = await stack.startCycle();
      await stack.waitFor(handle, (v) => v.state === 'awaiting-transfer', 60_000);
      const reminded = async () =>
        (await stack.audit.timeline(handle.workflowId)).filter((r) => r.type === 'wait.reminder');
      for (let i = 0; (await reminded()).length < 3 && i < 100; i++) await new Promise((r) => setTimeout(r, 100));
      await first.kill('SIGKILL');
      const beforeKill = (await reminded()).length;
      expect(beforeKill).toBeGreaterThanOrEqual(3);

      second = spawnWorker(stack.configFile, stack.env);
      const result = (await handle.result()) as { state: string };
      expect(result.state).toBe('expired');

      // Reminders at 1 s … 24 s: every one audited once, numbered on from before the kill.
      const numbers = (await reminded()).map((r) => r.data!.remindersSent);
      expect(numbers).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
      const mails = await stack.outbox.list({ workflowId: handle.workflowId, purpose: 'reminder' });
      expect(mails).toHaveLength(24);
    } finally {
      await first.kill('SIGKILL');
      await second?.kill('SIGTERM');
    }
  });
});
