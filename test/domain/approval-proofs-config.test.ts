/** The proof settings of issue 14: defaults, and errors that name the field. */
import { ConfigError, parseConfig } from '../../src/domain/config';
import { DEFAULT_APPROVAL_PROOFS } from '../../src/domain/proof';
import { minimalSiteDoc } from '../helpers/minimal-site';

const site = (extra: { approval?: object; people?: object } = {}) =>
  minimalSiteDoc({ people: extra.people, ...(extra.approval ? { approval: extra.approval } : {}) });

function problemsOf(doc: unknown): string[] {
  try {
    parseConfig(doc, 'plant.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).problems];
  }
  throw new Error('expected the configuration to be refused');
}

describe('approval proofs in the configuration', () => {
  it('accepts mail-link, web-session and cli-code when nothing is set; no os-user action, no login names', () => {
    const s = parseConfig({ sites: [site()] }, 'plant.yaml').sites[0]!;
    expect(s.approval.proofs).toEqual([...DEFAULT_APPROVAL_PROOFS]);
    expect(s.approval.proofs).toEqual(['mail-link', 'web-session', 'cli-code']);
    expect(s.approval.osUserActions).toEqual([]);
    expect(s.people.osUsers).toEqual({});
  });

  it('takes a site’s own proofs, os-user actions and login names', () => {
    const s = parseConfig(
      {
        sites: [
          site({
            approval: { proofs: ['mail-link', 'os-user'], osUserActions: ['copied', 'done'] },
            people: { osUsers: { ann: 'ann@plant1.example' } },
          }),
        ],
      },
      'plant.yaml',
    ).sites[0]!;
    expect(s.approval.proofs).toEqual(['mail-link', 'os-user']);
    expect(s.approval.osUserActions).toEqual(['copied', 'done']);
    expect(s.people.osUsers).toEqual({ ann: 'ann@plant1.example' });
  });

  it('names the field of an unknown proof, an empty list, an unknown action and a login mapped to a non-address', () => {
    expect(problemsOf({ sites: [site({ approval: { proofs: ['password'] } })] })).toEqual([
      expect.stringMatching(
        /^sites\.0\.approval\.proofs\.0: expected one of mail-link, web-session, shared-secret, cli-code, os-user, unproven/,
      ),
    ]);
    expect(problemsOf({ sites: [site({ approval: { proofs: [] } })] })).toEqual([
      expect.stringMatching(/^sites\.0\.approval\.proofs: expected at least one proof kind/),
    ]);
    expect(problemsOf({ sites: [site({ approval: { osUserActions: ['approve'] } })] })).toEqual([
      expect.stringMatching(/^sites\.0\.approval\.osUserActions\.0: expected one of copied, done, confirm/),
    ]);
    expect(problemsOf({ sites: [site({ people: { osUsers: { ann: 'ann' } } })] })).toEqual([
      expect.stringMatching(/^sites\.0\.people\.osUsers\.ann: expected an email address/),
    ]);
  });

  it('refuses os-user proofs without login names to map', () => {
    expect(problemsOf({ sites: [site({ approval: { proofs: ['os-user'] } })] })).toEqual([
      'sites.0.approval.proofs: "os-user" needs people.osUsers (login name → person)',
    ]);
    expect(problemsOf({ sites: [site({ approval: { osUserActions: ['copied'] } })] })).toEqual([
      'sites.0.approval.osUserActions: os-user proofs need people.osUsers (login name → person)',
    ]);
  });
});
