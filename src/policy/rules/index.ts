import type { ImageFacts } from '../facts.js';
import type { Finding, RuleId } from '../finding.js';
import { runAsRoot } from './run-as-root.js';
import { secretEnv } from './secret-env.js';
import { secretHistory } from './secret-history.js';

export type ImageRuleOptions = {
  /** Kubelet `runAsNonRoot` reading of USER (see run-as-root.ts). Default false. */
  strictRoot?: boolean;
  /** Rules to run; default all image rules. Rules not listed here are skipped, not just unenforced. */
  rules?: readonly ImageRuleId[];
};

export type ImageRuleId = Exclude<RuleId, 'tag-mutation'>;
export const IMAGE_RULE_IDS: readonly ImageRuleId[] = ['run-as-root', 'secret-env', 'secret-history'];

/** Runs the pure image rules over one image config's facts. Findings come in rule order, then image order. */
export function evaluateImageRules(facts: ImageFacts, options: ImageRuleOptions = {}): Finding[] {
  const enabled = new Set(options.rules ?? IMAGE_RULE_IDS);
  return [
    ...(enabled.has('run-as-root') ? runAsRoot(facts, { strict: options.strictRoot === true }) : []),
    ...(enabled.has('secret-env') ? secretEnv(facts) : []),
    ...(enabled.has('secret-history') ? secretHistory(facts) : []),
  ];
}

export { classifyUser, type ImageUser, type RunAsRootOptions, runAsRoot } from './run-as-root.js';
export { secretEnv } from './secret-env.js';
export { secretHistory } from './secret-history.js';
