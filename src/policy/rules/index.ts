import type { ImageFacts } from '../facts.js';
import type { Finding, RuleId } from '../finding.js';
import { type ImageAgeOptions, imageAge } from './image-age.js';
import { runAsRoot } from './run-as-root.js';
import { secretEnv } from './secret-env.js';
import { secretHistory } from './secret-history.js';

export type ImageRuleOptions = {
  /** Kubelet `runAsNonRoot` reading of USER (see run-as-root.ts). Default false. */
  strictRoot?: boolean;
  /** Rules to run; default all image rules. Rules not listed here are skipped, not just unenforced. */
  rules?: readonly ImageRuleId[];
  /** image-age runs only with its settings and the time of the pull. */
  imageAge?: ImageAgeOptions | undefined;
};

/** Rules judged from one image config. */
export type ImageRuleId = Extract<RuleId, 'run-as-root' | 'secret-env' | 'secret-history' | 'image-age'>;
export const IMAGE_RULE_IDS: readonly ImageRuleId[] = [
  'run-as-root',
  'secret-env',
  'secret-history',
  'image-age',
];

/** Rules judged from the pull itself (the reference, the declared base), with facts from the tag history. */
export type PullRuleId = Extract<RuleId, 'require-digest' | 'stale-base'>;
export const PULL_RULE_IDS: readonly PullRuleId[] = ['require-digest', 'stale-base'];

/** Runs the pure image rules over one image config's facts. Findings come in rule order, then image order. */
export function evaluateImageRules(facts: ImageFacts, options: ImageRuleOptions = {}): Finding[] {
  const enabled = new Set(options.rules ?? IMAGE_RULE_IDS);
  return [
    ...(enabled.has('run-as-root') ? runAsRoot(facts, { strict: options.strictRoot === true }) : []),
    ...(enabled.has('secret-env') ? secretEnv(facts) : []),
    ...(enabled.has('secret-history') ? secretHistory(facts) : []),
    ...(enabled.has('image-age') && options.imageAge !== undefined ? imageAge(facts, options.imageAge) : []),
  ];
}

export { type BuildTime, buildTime, type ImageAgeOptions, imageAge, type UnknownAge } from './image-age.js';
export {
  type Approval,
  type ReferenceFacts,
  type RequireDigestOptions,
  requireDigest,
} from './require-digest.js';
export { classifyUser, type ImageUser, type RunAsRootOptions, runAsRoot } from './run-as-root.js';
export { secretEnv } from './secret-env.js';
export { secretHistory } from './secret-history.js';
export {
  BASE_DIGEST,
  BASE_NAME,
  type BaseFacts,
  type BaseState,
  type DeclaredBase,
  declaredBase,
  type StaleBaseOptions,
  staleBase,
} from './stale-base.js';
