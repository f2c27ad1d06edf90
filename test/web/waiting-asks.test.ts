/**
 * Which of a run's published asks the "waiting on me" page lists for a person: those that name
 * them, that a person answers from the page (an approval, a copy, a manual step, which is also how
 * a rollout asks for a stage's approval or confirmation), and, for approvals, only until they answered.
 */
import type { Answer, Ask } from '../../src/domain/asks';
import { asksFor } from '../../src/web/temporal-waiting';

const ask = (a: Partial<Ask> & Pick<Ask, 'id' | 'action' | 'subject' | 'from'>): Ask => ({
  title: a.id,
  round: 0,
  since: '2026-12-01T10:00:00.000Z',
  ...a,
});

const asks: Ask[] = [
  ask({ id: 'approve', action: 'approve', subject: 'sha-1', from: ['Approver@Plant.example', 'second@plant.example'] }),
  ask({ id: 'file-copied', action: 'file-copied', subject: 'sha-1', from: ['operator@plant.example'] }),
  ask({ id: 'manual:U3-approval', action: 'manual-done', subject: 'U3-approval', from: ['approver@plant.example'] }),
  ask({ id: 'stage:U2', action: 'retry-stage', subject: 'U2', from: ['approver@plant.example'] }),
];

describe('what waits on a person', () => {
  it('lists the asks that name them and that the page can answer, whatever the case of their address', () => {
    expect(asksFor({ id: 'run-1', asks, answers: [] }, 'approver@plant.example')).toEqual([
      { workflowId: 'run-1', action: 'approve', subject: 'sha-1' },
      { workflowId: 'run-1', action: 'manual-done', subject: 'U3-approval' },
    ]);
    expect(asksFor({ id: 'run-1', asks, answers: [] }, 'operator@plant.example')).toEqual([
      { workflowId: 'run-1', action: 'file-copied', subject: 'sha-1' },
    ]);
    expect(asksFor({ id: 'run-1', asks, answers: [] }, 'stranger@elsewhere.example')).toEqual([]);
  });

  it('leaves out an approval this person answered, not one another approver answered', () => {
    const answered = (by: string): Answer[] => [
      {
        askId: 'approve',
        action: 'approve',
        subject: 'sha-1',
        round: 0,
        by,
        at: '2026-12-01T10:05:00.000Z',
        channel: 'web',
      },
    ];
    const mine = asksFor({ id: 'run-1', asks, answers: answered('APPROVER@plant.example') }, 'approver@plant.example');
    expect(mine.map((a) => a.action)).toEqual(['manual-done']);
    const theirs = asksFor({ id: 'run-1', asks, answers: answered('second@plant.example') }, 'approver@plant.example');
    expect(theirs.map((a) => a.action)).toEqual(['approve', 'manual-done']);
  });
});
