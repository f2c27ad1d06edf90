import { ApplicationFailure } from '@temporalio/common';
import { earlierAnswer, isRefusalCode, openAsk, type Answer, type Ask } from '../../src/domain/asks';
import { approvalProblem } from '../../src/domain/cycle';
import { refusalOf, refuse } from '../../src/workflows/refusal';

const digest = 'cd'.repeat(32);
const ask = (over: Partial<Ask>): Ask => ({
  id: 'approve',
  action: 'approve',
  subject: digest,
  title: 'approve the import',
  from: ['a@x'],
  round: 0,
  since: '2026-12-01T00:00:00.000Z',
  ...over,
});
const answer = (over: Partial<Answer>): Answer => ({
  askId: 'approve',
  action: 'approve',
  subject: digest,
  round: 0,
  by: 'a@x',
  at: '2026-12-01T01:00:00.000Z',
  channel: 'link',
  ...over,
});

describe('the asks a run publishes', () => {
  const asks = [ask({}), ask({ id: 'manual:import', action: 'manual-done', subject: 'import' })];

  it('finds the open ask a link answers by action and subject; a rejection answers the approval', () => {
    expect(openAsk(asks, 'approve', digest)?.id).toBe('approve');
    expect(openAsk(asks, 'reject', digest)?.id).toBe('approve');
    expect(openAsk(asks, 'manual-done', 'import')?.id).toBe('manual:import');
    expect(openAsk(asks, 'approve', 'ef'.repeat(32))).toBeUndefined();
    expect(openAsk(asks, 'file-copied', digest)).toBeUndefined();
    expect(openAsk(undefined, 'approve', digest)).toBeUndefined();
  });

  it("finds an approver's own earlier decision (newest first, any case), and anyone's for copies and steps", () => {
    const answers = [
      answer({ by: 'A@x', at: '2026-12-01T01:00:00.000Z' }),
      answer({ by: 'b@x' }),
      answer({ action: 'reject', by: 'a@x', at: '2026-12-01T02:00:00.000Z' }),
      answer({ askId: 'file-copied', action: 'file-copied', by: 'carrier@x', updateId: 'tok-1' }),
    ];
    expect(earlierAnswer(answers, 'approve', digest, 'a@x')).toMatchObject({ action: 'reject', by: 'a@x' });
    expect(earlierAnswer(answers, 'reject', digest, 'b@x')).toMatchObject({ action: 'approve', by: 'b@x' });
    expect(earlierAnswer(answers, 'approve', digest, 'c@x')).toBeUndefined();
    expect(earlierAnswer(answers, 'approve', 'ef'.repeat(32), 'a@x')).toBeUndefined();
    expect(earlierAnswer(answers, 'file-copied', digest)).toMatchObject({ by: 'carrier@x', updateId: 'tok-1' });
    expect(earlierAnswer(answers, 'manual-done', 'import')).toBeUndefined();
  });
});

describe('refusals', () => {
  it('travel as a typed code beside the sentence, read back by refusalOf from the failure or its carrier', () => {
    let thrown: unknown;
    try {
      refuse('not-approver', 'z@x is not an approver of this site');
    } catch (err) {
      thrown = err;
    }
    expect(refusalOf(thrown)).toEqual({ code: 'not-approver', message: 'z@x is not an approver of this site' });
    // executeUpdate's error carries the validator's failure as its cause.
    expect(refusalOf({ cause: thrown })).toEqual({
      code: 'not-approver',
      message: 'z@x is not an approver of this site',
    });
  });

  it("counts a validator's plain failure (a run started before codes) as not-allowed, and anything else as none", () => {
    expect(refusalOf(ApplicationFailure.create({ message: 'no' }))).toEqual({ code: 'not-allowed', message: 'no' });
    expect(refusalOf(new Error('socket closed'))).toBeUndefined();
    expect(isRefusalCode('already-decided')).toBe(true);
    expect(isRefusalCode('already decided')).toBe(false);
  });

  it('name the approval rule that refused, by code', () => {
    const rules = { policy: 'any' as const, required: 1, carrierMayApprove: false, approvers: ['a@x', 'b@x'] };
    expect(approvalProblem(rules, 'z@x', [], [])?.code).toBe('not-approver');
    expect(approvalProblem(rules, 'A@x', ['a@x'], [])?.code).toBe('carrier-may-not-approve');
    expect(approvalProblem(rules, 'b@x', [], ['B@x'])?.code).toBe('already-decided');
    expect(approvalProblem(rules, 'b@x', ['a@x'], ['a@x'])).toBeUndefined();
    expect(approvalProblem(rules, 'a@x', ['a@x'], [], 'asked for it')?.message).toBe('a@x asked for it');
  });
});
