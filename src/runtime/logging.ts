/**
 * The Temporal SDK logs every worker state change at INFO. Operators get warnings and errors by
 * default; AIRGAP_LOG_LEVEL=INFO (or DEBUG, TRACE) brings the rest back.
 */
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';

const LEVELS: LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];

export function installWorkerLogging(env: NodeJS.ProcessEnv = process.env): void {
  const wanted = (env.AIRGAP_LOG_LEVEL ?? 'WARN').toUpperCase() as LogLevel;
  const level = LEVELS.includes(wanted) ? wanted : 'WARN';
  try {
    Runtime.install({ logger: new DefaultLogger(level) });
  } catch {
    // Installed already (a second start in one process).
  }
}
