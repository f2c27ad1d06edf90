import path from 'node:path';
import { classifyArrival, type ArrivalObservations } from '../../src/domain/bundle-arrival';

const expected = { fileName: 'b.zip', size: 1000, sha256: 'a'.repeat(64) };
const base: ArrivalObservations = {
  hostName: 'relay-1',
  installDir: '/opt/ds_agent',
  misplaced: [],
  sameSize: [],
  otherZips: [],
};
const classify = (obs: Partial<ArrivalObservations>) => classifyArrival(expected, { ...base, ...obs }, path.posix.join);

describe('classifying what arrived on an air-gapped relay', () => {
  test('is ok only when name, size and digest all match', () => {
    expect(classify({ exact: { path: '/opt/ds_agent/b.zip', size: 1000, sha256: expected.sha256 } }).status).toBe('ok');
  });

  test('calls a shorter file with the exact name truncated and says how much arrived', () => {
    const report = classify({ exact: { path: '/opt/ds_agent/b.zip', size: 600 } });
    expect(report.status).toBe('truncated');
    expect(report.message).toContain('600 bytes of 1,000 bytes');
  });

  test('calls a same-size file with another digest a different file', () => {
    const report = classify({ exact: { path: '/opt/ds_agent/b.zip', size: 1000, sha256: 'b'.repeat(64) } });
    expect(report.status).toBe('different-file');
  });

  test('points at the exact name found outside the install dir', () => {
    const report = classify({ misplaced: [{ path: '/opt/b.zip', size: 1000 }] });
    expect(report).toMatchObject({ status: 'wrong-folder', foundPath: '/opt/b.zip' });
    expect(report.message).toContain('Move it to /opt/ds_agent/b.zip');
  });

  test('recognises a renamed copy by its digest and asks for the original name', () => {
    const report = classify({ sameSize: [{ path: '/opt/ds_agent/b (1).zip', sha256: expected.sha256 }] });
    expect(report.status).toBe('renamed');
    expect(report.message).toContain('rename it to b.zip');
  });

  test('reports missing and lists the other zips that are there', () => {
    const report = classify({ otherZips: [{ path: '/opt/ds_agent/old.zip', size: 5 }] });
    expect(report.status).toBe('missing');
    expect(report.message).toContain('/opt/ds_agent/old.zip');
  });

  test('says the install dir itself is missing, not merely that the zip is not there', () => {
    const report = classify({ installDirProblem: 'missing' });
    expect(report.status).toBe('missing');
    expect(report.message).toContain('the install dir /opt/ds_agent does not exist on relay-1');
    expect(report.message).not.toContain('is not there');
    const dropped = classify({ installDirProblem: 'missing', misplaced: [{ path: '/opt/b.zip', size: 1000 }] });
    expect(dropped).toMatchObject({ status: 'missing', foundPath: '/opt/b.zip' });
    expect(dropped.message).toContain('b.zip was found at /opt/b.zip');
    expect(classify({ installDirProblem: 'not-a-folder' }).message).toContain('/opt/ds_agent is not a folder');
  });
});
