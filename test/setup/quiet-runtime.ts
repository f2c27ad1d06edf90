// Workers log every state change at INFO; tests keep warnings and errors only.
import { installWorkerLogging } from '../../src/runtime/logging';

installWorkerLogging({ AIRGAP_LOG_LEVEL: process.env.AIRGAP_LOG_LEVEL ?? 'WARN' });
