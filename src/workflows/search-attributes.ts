/**
 * Custom search attributes on every workflow, so the Temporal UI and CLI can find runs by site,
 * kind, state and bundle digest (e.g. `AirgapSite = "demo" AND AirgapState = "awaiting-transfer"`).
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const SITE = defineSearchAttributeKey('AirgapSite', SearchAttributeType.KEYWORD);
export const KIND = defineSearchAttributeKey('AirgapKind', SearchAttributeType.KEYWORD);
export const STATE = defineSearchAttributeKey('AirgapState', SearchAttributeType.KEYWORD);
export const BUNDLE_SHA256 = defineSearchAttributeKey('AirgapBundleSha256', SearchAttributeType.KEYWORD);

export const ALL_SEARCH_ATTRIBUTES = [SITE, KIND, STATE, BUNDLE_SHA256] as const;
