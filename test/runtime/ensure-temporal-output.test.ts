/**
 * The first-time Temporal CLI build shows one progress line with the elapsed time; Go's own
 * output is kept and shown only when the build fails (scripts/ensure-temporal.js buildReporter).
 */
interface Reporter {
  output(chunk: string): void;
  tick(): void;
  done(bin: string): void;
  failed(why: string): void;
}
type BuildReporter = (
  stream: { write(s: string): boolean; isTTY?: boolean },
  o: { now: () => number; tty: boolean },
) => Reporter;
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a plain JavaScript script
const { buildReporter } = require('../../scripts/ensure-temporal') as { buildReporter: BuildReporter };

function collect(tty: boolean) {
  let text = '';
  let t = 1_000_000;
  const stream = { write: (s: string) => ((text += s), true), isTTY: tty };
  const report = buildReporter(stream, { now: () => t, tty });
  return { report, text: () => text, advance: (ms: number) => (t += ms) };
}

const GO_NOISE = 'go: downloading github.com/temporalio/cli v1.5.1\ngo: downloading go.temporal.io/server v1.28.0\n';

describe('Temporal CLI build output', () => {
  it('on a terminal: one line rewritten in place with the elapsed time, no Go output on success', () => {
    const { report, text, advance } = collect(true);
    report.output(GO_NOISE);
    advance(37_000);
    report.tick();
    advance(150_000);
    report.done('/x/.tools/temporal-v1.5.1/temporal');
    expect(text()).not.toContain('go: downloading');
    expect(text().split('\n').filter(Boolean)).toHaveLength(1);
    expect(text()).toContain('… 37 s');
    expect(text()).toMatch(
      /\rBuilding the Temporal CLI v1\.5\.1 .*… built in 187 s: \/x\/\.tools\/temporal-v1\.5\.1\/temporal\n$/,
    );
  });

  it('in a log: a start line and an end line, no ticker lines', () => {
    const { report, text, advance } = collect(false);
    report.output(GO_NOISE);
    for (let i = 0; i < 10; i++) {
      advance(30_000);
      report.tick();
    }
    report.done('/bin/temporal');
    expect(text().trim().split('\n')).toEqual([
      expect.stringMatching(/^Building the Temporal CLI/),
      'built in 300 s: /bin/temporal',
    ]);
  });

  it("shows Go's output when the build fails", () => {
    const { report, text, advance } = collect(false);
    report.output(GO_NOISE);
    report.output('go: github.com/x: no space left on device\n');
    advance(12_000);
    report.failed('go install exited with 1');
    expect(text()).toContain('failed after 12 s: go install exited with 1');
    expect(text()).toContain(GO_NOISE);
    expect(text()).toContain('no space left on device');
  });
});
