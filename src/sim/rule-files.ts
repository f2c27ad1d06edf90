/**
 * The simulated .dsru rule update file (R1–R3). The real format is the vendor's (signed, not
 * documented here); the simulator's is a text header the simulated manager can validate, plus
 * filler so the file has a realistic size. The file name is the simulator's choice too: the
 * real naming is unverified, so the orchestrator never relies on it.
 */
import crypto from 'node:crypto';

const MAGIC = 'SIMULATED-DSRU/1';

export interface RuleFileSummary {
  version: string;
  /** How many rules of each kind the update carries, as the import page summarises them. */
  rules: { intrusionPrevention: number; integrityMonitoring: number; logInspection: number };
}

export function ruleFileName(version: string): string {
  return `DSRU-${version}.dsru`;
}

/** Deterministic per version: exporting the same update twice gives the same bytes. */
export function buildRuleFile(version: string, sizeBytes = 48 * 1024): { data: Buffer; summary: RuleFileSummary } {
  const seed = crypto.createHash('sha256').update(`dsru:${version}`).digest();
  const summary: RuleFileSummary = {
    version,
    rules: {
      intrusionPrevention: 8000 + (seed.readUInt16BE(0) % 900),
      integrityMonitoring: 300 + (seed[2]! % 90),
      logInspection: 1200 + (seed[3]! % 200),
    },
  };
  const header = Buffer.from(`${MAGIC}\n${JSON.stringify(summary)}\n`, 'utf8');
  const filler = Buffer.alloc(Math.max(0, sizeBytes - header.length));
  let block = seed;
  for (let at = 0; at < filler.length; at += block.length) {
    block.copy(filler, at);
    block = crypto.createHash('sha256').update(block).digest();
  }
  return { data: Buffer.concat([header, filler]), summary };
}

/** The summary in a file's header, or undefined when the file is not a simulated .dsru. */
export function readRuleFileHeader(data: Buffer): RuleFileSummary | undefined {
  const text = data.subarray(0, 512).toString('utf8');
  const [magic, json] = text.split('\n');
  if (magic !== MAGIC || json === undefined) return undefined;
  try {
    const parsed = JSON.parse(json) as RuleFileSummary;
    return typeof parsed.version === 'string' ? parsed : undefined;
  } catch {
    return undefined;
  }
}
