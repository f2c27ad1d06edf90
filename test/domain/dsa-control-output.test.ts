import { DsaControlOutputError, parseDsaControlBuildOutput } from '../../src/domain/dsa-control-output';

const linux = { os: 'linux' as const };
const windows = { os: 'windows' as const };

describe('parsing what dsa_control -b printed', () => {
  test('takes a full path to the zip wherever it sits in the text', () => {
    const out = 'HTTP Status: 200 - OK\nResponse:\nCreated /opt/ds_agent/updates_20250311.zip successfully.\n';
    expect(parseDsaControlBuildOutput(out, linux)).toEqual({
      path: '/opt/ds_agent/updates_20250311.zip',
      fileName: 'updates_20250311.zip',
      via: 'full-path',
    });
  });

  test('joins a zip name and a location printed on separate lines', () => {
    const out =
      'The security update bundle was created.\nName: ds_update_bundle_20250311T060012Z.zip\nLocation: /opt/ds_agent\n';
    expect(parseDsaControlBuildOutput(out, linux).path).toBe('/opt/ds_agent/ds_update_bundle_20250311T060012Z.zip');
  });

  test('keeps spaces in Windows paths', () => {
    const out = 'Bundle: "C:\\Program Files\\Trend Micro\\Deep Security Agent\\bundle 1.zip"\r\n';
    const found = parseDsaControlBuildOutput(out, windows);
    expect(found.path).toBe('C:\\Program Files\\Trend Micro\\Deep Security Agent\\bundle 1.zip');
    expect(found.fileName).toBe('bundle 1.zip');
  });

  test('joins a Windows location that holds spaces', () => {
    const out = 'Name: b.zip\r\nLocation: C:\\Program Files\\Trend Micro\\Deep Security Agent\\\r\n';
    expect(parseDsaControlBuildOutput(out, windows).path).toBe(
      'C:\\Program Files\\Trend Micro\\Deep Security Agent\\b.zip',
    );
  });

  test('uses the default directory only when no location is printed', () => {
    const found = parseDsaControlBuildOutput('Created bundle.zip\n', { ...linux, defaultDirectory: '/opt/ds_agent' });
    expect(found).toEqual({ path: '/opt/ds_agent/bundle.zip', fileName: 'bundle.zip', via: 'name-only' });
  });

  test('does not mistake a URL for a path', () => {
    const out = 'See https://help.example.com/docs/guide.zip for help\nName: a.zip\nLocation: /opt/ds_agent\n';
    expect(parseDsaControlBuildOutput(out, linux).path).toBe('/opt/ds_agent/a.zip');
  });

  test('refuses output that names no zip, and carries the raw output', () => {
    const raw = 'HTTP Status: 500 - Internal error\nResponse:\nFailed.\n';
    let error: unknown;
    try {
      parseDsaControlBuildOutput(raw, linux);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(DsaControlOutputError);
    expect((error as DsaControlOutputError).rawOutput).toBe(raw);
    expect((error as Error).message).toContain('Failed.');
  });

  test('refuses output that names two different zips', () => {
    expect(() => parseDsaControlBuildOutput('/opt/ds_agent/a.zip\n/opt/ds_agent/b.zip\n', linux)).toThrow(
      'several zips',
    );
  });

  test('refuses a zip name with two candidate locations', () => {
    expect(() =>
      parseDsaControlBuildOutput('Name: a.zip\nLocation: /opt/ds_agent\nLog: /var/log/ds_agent\n', linux),
    ).toThrow('several locations');
  });

  test('refuses a bare zip name when it cannot know the folder', () => {
    expect(() => parseDsaControlBuildOutput('Created a.zip\n', linux)).toThrow('no location');
  });
});
