/**
 * Inputs and results of the activities, shared by the workflows (as types only) and the
 * activity implementations. One input object, one result object each.
 */
import type { ComponentVersion } from '../domain/cycle';

export type ManagerSide = 'dmz' | 'airgapped';

export interface RelayVersionsInput {
  site: string;
  side: ManagerSide;
  computerId: number;
}

export interface RelayVersions {
  versions: ComponentVersion[];
  agentStatus: string;
  updateStatus?: string;
  updateMessage?: string;
}

export interface ImportInput {
  site: string;
  relay: string;
  computerId: number;
  expect: ComponentVersion[];
}

export interface TriggerImportResult {
  /** False when the relay already had, or was already importing, the bundle: nothing was sent. */
  triggered: boolean;
  reason: string;
}

export interface AwaitImportInput extends ImportInput {
  pollInterval: number;
}

export interface RetainBundleInput {
  path: string;
  mode: 'delete' | 'archive' | 'keep';
  archiveDir?: string;
}

// The notice input lives with the mail (src/domain/mail/notice.ts); these names stay for the callers.
export type {
  LinkAction,
  Notice,
  Notice as NoticeRequest,
  NoticeFields,
  NoticePurpose,
  NoticeTemplate,
  PlainNotice,
} from '../domain/mail/notice';
