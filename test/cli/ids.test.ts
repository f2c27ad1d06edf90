/** Every id a command prints is accepted as-is by the command that takes it. */
import { parseFileOption } from '../../src/cli/rules';
import { stageIdOf, stepIdOf } from '../../src/cli/run-actions';
import { stageLabel } from '../../src/domain/upgrade-stages';

describe('ids as status prints them', () => {
  it('a manual step as "waits for" shows it (manual:import-rules) is the step the workflow knows', () => {
    expect(stepIdOf('manual:import-rules')).toBe('import-rules');
    expect(stepIdOf('import-rules')).toBe('import-rules');
  });

  it('an upgrade stage as its id, its label or in lower case is the stage id', () => {
    expect(stageIdOf('U3')).toBe('U3');
    expect(stageIdOf('u3')).toBe('U3');
    expect(stageIdOf(stageLabel('U3'))).toBe('U3');
  });

  it('the --file form sim export-rules suggests (NAME=SHA256:SIZE) is accepted by rules exported', () => {
    const sha = 'ab'.repeat(32);
    expect(parseFileOption(`DSRU-26-046.dsru=${sha}:1234`)).toEqual({
      fileName: 'DSRU-26-046.dsru',
      sha256: sha,
      size: 1234,
    });
  });
});
