import { type CandidateException, candidateExceptions, type ExceptionRef, isExpired } from './exceptions.js';
import type { ImageFacts } from './facts.js';
import type { Finding } from './finding.js';
import {
  type BaseFacts,
  evaluateImageRules,
  IMAGE_RULE_IDS,
  type ImageRuleId,
  PULL_RULE_IDS,
  type PullRuleId,
  type ReferenceFacts,
  requireDigest,
  staleBase,
  type UnknownAge,
} from './rules/index.js';
import type { LoadedPolicy, PolicySet } from './schema.js';
import { type ScopeInput, scopeMatches, scopeMatchesLoosely, scopeSpecificity } from './scope.js';

/** Everything evaluate() needs besides the facts. The clock is an input: evaluate is pure. */
export interface EvaluationContext extends ScopeInput {
  /** Digest of the manifest asked for. */
  digest: string;
  /** For one platform of an index: that platform's image manifest digest. */
  platformDigest?: string | undefined;
  now: Date;
}

export type Mode = 'enforce' | 'audit';
export type DecisionKind = 'allow' | 'warn' | 'deny';

export interface DecisionFinding extends Finding {
  mode: Mode;
  /** The policy whose setting gave the rule its mode. */
  policy: string;
  /** Set when an exception would have waived this finding but has expired. */
  expiredException?: ExceptionRef;
}

export interface WaivedFinding extends Finding {
  exception: ExceptionRef;
}

export interface Decision {
  decision: DecisionKind;
  /** Findings that count: enforce ones deny, audit ones warn. */
  findings: DecisionFinding[];
  /** Findings an exception waived: recorded, never shown as a refusal. */
  waived: WaivedFinding[];
  exceptionsApplied: ExceptionRef[];
  exceptionsExpired: ExceptionRef[];
  /** The policies whose scope matched this pull. */
  policyNames: string[];
  policyVersion: string;
}

export interface RuleSetting {
  mode: 'enforce' | 'audit' | 'off';
  /** The policy that decided; undefined when no policy in scope sets the rule (then it is off). */
  policy: string | undefined;
  strict: boolean;
  failClosed: boolean;
  /** image-age's settings, from the winning policy. */
  maxAgeDays?: number;
  unknown?: UnknownAge;
  /** require-digest: also refuse rejected digests by digest. */
  refuseRejected?: boolean;
  /** stale-base: ask the base's upstream when the tag history cannot tell. */
  checkUpstream?: boolean;
}

export interface ResolvedPolicy {
  rules: Record<DecisionRuleId, RuleSetting>;
  artifacts: 'ignore' | 'judge';
  matching: LoadedPolicy[];
}

const STRICTNESS = { off: 0, audit: 1, enforce: 2 } as const;

/**
 * How overlapping policies combine (policies/README.md, "Combining policies"): for each rule separately, of the
 * policies in scope that set the rule, the one with the highest `priority` wins; among equal priorities the
 * more specific scope (more dimensions named) wins; a remaining tie goes to the stricter mode. A rule no policy
 * in scope sets is off.
 */
export function resolvePolicies(
  set: PolicySet,
  input: ScopeInput,
  inScope: (policy: LoadedPolicy) => boolean = (p) => scopeMatches(p.scope, input),
): ResolvedPolicy {
  const matching = set.policies.filter(inScope);
  const rules = {} as Record<DecisionRuleId, RuleSetting>;
  for (const rule of DECISION_RULE_IDS) {
    let best: { policy: LoadedPolicy; mode: RuleSetting['mode']; strict: boolean } | undefined;
    for (const policy of matching) {
      const setting = policy.rules[rule];
      if (setting === undefined) continue;
      const strict = rule === 'run-as-root' && policy.rules['run-as-root']?.strict === true;
      const candidate = { policy, mode: setting.mode, strict };
      if (best === undefined || outranks(candidate, best)) best = candidate;
    }
    rules[rule] =
      best === undefined
        ? { mode: 'off', policy: undefined, strict: false, failClosed: true }
        : {
            mode: best.mode,
            policy: best.policy.name,
            strict: best.strict,
            failClosed: best.policy.failClosed ?? true,
            ...ruleOptions(best.policy, rule),
          };
  }
  let artifacts: { policy: LoadedPolicy; value: 'ignore' | 'judge' } | undefined;
  for (const policy of matching) {
    if (policy.artifacts === undefined) continue;
    const candidate = { policy, value: policy.artifacts };
    if (
      artifacts === undefined ||
      compareRank(policy, artifacts.policy) > 0 ||
      (compareRank(policy, artifacts.policy) === 0 && candidate.value === 'judge')
    ) {
      artifacts = candidate;
    }
  }
  return { rules, artifacts: artifacts?.value ?? 'ignore', matching };
}

function ruleOptions(policy: LoadedPolicy, rule: DecisionRuleId): Partial<RuleSetting> {
  switch (rule) {
    case 'image-age': {
      const r = policy.rules['image-age'];
      return r === undefined ? {} : { maxAgeDays: r.maxAgeDays, unknown: r.unknown ?? 'allow' };
    }
    case 'require-digest':
      return { refuseRejected: policy.rules['require-digest']?.refuseRejected === true };
    case 'stale-base':
      return { checkUpstream: policy.rules['stale-base']?.checkUpstream === true };
    default:
      return {};
  }
}

function compareRank(a: LoadedPolicy, b: LoadedPolicy): number {
  if (a.priority !== b.priority) return a.priority - b.priority;
  return scopeSpecificity(a.scope) - scopeSpecificity(b.scope);
}

function outranks(
  a: { policy: LoadedPolicy; mode: RuleSetting['mode']; strict: boolean },
  b: { policy: LoadedPolicy; mode: RuleSetting['mode']; strict: boolean },
): boolean {
  const rank = compareRank(a.policy, b.policy);
  if (rank !== 0) return rank > 0;
  if (STRICTNESS[a.mode] !== STRICTNESS[b.mode]) return STRICTNESS[a.mode] > STRICTNESS[b.mode];
  return a.strict && !b.strict;
}

/**
 * The strictest reading of the policies for a pull whose tag is unknown (a blob asked for by digest names only
 * the repository): every tag-scoped policy is considered as if the tag matched it, one at a time, beside the
 * policies that name no tag, and each rule takes the strictest mode any such tag could give it. With `anyClient`
 * the same is done for client-scoped policies (users, networks): the reading then holds for every client.
 * Exceptions count only from policies that are in scope whatever the tag (and client), and only those not tied
 * to a manifest digest can match (the digest here is the blob's). Pure.
 */
export function evaluateStrictest(
  set: PolicySet,
  facts: ImageFacts,
  context: EvaluationContext,
  options: { anyClient?: boolean } = {},
): Decision {
  const strictest = resolveStrictest(set, context, options);
  const { rules } = strictest;
  const enabled = SCREENED_RULE_IDS.filter((r) => rules[r].mode !== 'off');
  const raw =
    enabled.length === 0
      ? []
      : evaluateImageRules(facts, { strictRoot: rules['run-as-root'].strict, rules: enabled });
  return decide(set, strictest, raw, context);
}

/**
 * The rules the strictest reading applies: those whose findings are in the config's own content (what a config
 * served by digest would give away). image-age is about when the image was built, and is left to the manifest.
 */
export const SCREENED_RULE_IDS = [
  'run-as-root',
  'secret-env',
  'secret-history',
] as const satisfies readonly ImageRuleId[];

/** The rule settings of evaluateStrictest's reading (see there). Pure. */
export function resolveStrictest(
  set: PolicySet,
  context: ScopeInput,
  options: { anyClient?: boolean } = {},
): ResolvedPolicy {
  const anyClient = options.anyClient === true;
  const conditional = (p: LoadedPolicy) =>
    p.scope.tags !== undefined || (anyClient && p.scope.clients !== undefined);
  const always = set.policies.filter((p) => !conditional(p) && scopeMatches(p.scope, context));
  const maybe = set.policies.filter(
    (p) => conditional(p) && scopeMatchesLoosely(p.scope, context, anyClient),
  );
  const readings = [
    resolvePolicies(set, context, (p) => always.includes(p)),
    ...maybe.map((m) => resolvePolicies(set, context, (p) => p === m || always.includes(p))),
  ];
  const base = readings[0] as ResolvedPolicy;
  const rules = { ...base.rules };
  for (const reading of readings.slice(1)) {
    for (const rule of SCREENED_RULE_IDS) {
      const a = rules[rule];
      const b = reading.rules[rule];
      if (STRICTNESS[b.mode] > STRICTNESS[a.mode] || (b.mode === a.mode && b.strict && !a.strict))
        rules[rule] = b;
    }
  }
  return { rules, artifacts: base.artifacts, matching: base.matching };
}

/** Judges one image config's facts under the policies in scope for this pull. Pure. */
export function evaluate(set: PolicySet, facts: ImageFacts, context: EvaluationContext): Decision {
  const resolved = resolvePolicies(set, context);
  const enabled = IMAGE_RULE_IDS.filter((r) => resolved.rules[r].mode !== 'off');
  const age = resolved.rules['image-age'];
  const raw =
    enabled.length === 0
      ? []
      : evaluateImageRules(facts, {
          strictRoot: resolved.rules['run-as-root'].strict,
          rules: enabled,
          imageAge:
            age.maxAgeDays === undefined
              ? undefined
              : { maxAgeDays: age.maxAgeDays, unknown: age.unknown ?? 'allow', now: context.now },
        });
  return decide(set, resolved, raw, context);
}

/** Facts about the pull rather than the image config: the reference asked for and the declared base. */
export interface PullFacts {
  /** For the pull as a whole (no `platformDigest` in the context). */
  reference?: ReferenceFacts;
  /** For one image manifest (with its `platformDigest` when it is a platform of an index). */
  base?: BaseFacts;
}

/** Judges the pull rules (require-digest, stale-base) under the policies in scope. Pure. */
export function evaluatePull(set: PolicySet, facts: PullFacts, context: EvaluationContext): Decision {
  const resolved = resolvePolicies(set, context);
  const digestRule = resolved.rules['require-digest'];
  const baseRule = resolved.rules['stale-base'];
  const raw: Finding[] = [
    ...(digestRule.mode === 'off' || facts.reference === undefined
      ? []
      : requireDigest(facts.reference, {
          refuseRejected: digestRule.refuseRejected === true,
          failClosed: digestRule.failClosed,
        })),
    ...(baseRule.mode === 'off' ? [] : staleBase(facts.base, { failClosed: baseRule.failClosed })),
  ];
  return decide(set, resolved, raw, context);
}

/** Which pull rules are on for this pull: the facts gate fetches only what they need. */
export function pullRulesInForce(set: PolicySet, input: ScopeInput): Record<PullRuleId, RuleSetting> {
  const rules = resolvePolicies(set, input).rules;
  return { 'require-digest': rules['require-digest'], 'stale-base': rules['stale-base'] };
}

/**
 * The decision when the image config could not be read (fetch failed, not an image config): each rule that is
 * on becomes a finding saying it could not be checked. Enforced rules of a fail-closed policy refuse; others
 * (audit mode, `failClosed: false`) only warn.
 */
export function evaluateUnavailable(set: PolicySet, context: EvaluationContext, reason: string): Decision {
  const resolved = resolvePolicies(set, context);
  const findings: DecisionFinding[] = [];
  for (const rule of IMAGE_RULE_IDS) {
    const setting = resolved.rules[rule];
    if (setting.mode === 'off' || setting.policy === undefined) continue;
    const refuse = setting.mode === 'enforce' && setting.failClosed;
    findings.push({
      rule,
      kind: 'config-unavailable',
      mode: refuse ? 'enforce' : 'audit',
      policy: setting.policy,
      message: `${rule}: not checked, ${reason}${refuse ? ' (fail-closed)' : ''}`,
    });
  }
  return {
    decision: decisionOf(findings),
    findings,
    waived: [],
    exceptionsApplied: [],
    exceptionsExpired: [],
    policyNames: resolved.matching.map((p) => p.name),
    policyVersion: set.version,
  };
}

/** Findings from the rules, given their modes and passed through the exceptions in scope. */
export function decide(
  set: PolicySet,
  resolved: ResolvedPolicy,
  raw: readonly Finding[],
  context: EvaluationContext,
): Decision {
  const candidates = candidateExceptions(resolved.matching, {
    repository: context.repository,
    digest: context.digest,
    platformDigest: context.platformDigest,
  });
  const findings: DecisionFinding[] = [];
  const waived: WaivedFinding[] = [];
  const applied = new Map<string, ExceptionRef>();
  const expired = new Map<string, ExceptionRef>();
  for (const finding of raw) {
    if (finding.rule === 'tag-mutation') continue;
    const setting = resolved.rules[finding.rule];
    if (setting.mode === 'off' || setting.policy === undefined) continue;
    const covering = candidates.filter((c) => c.exception.rules.includes(finding.rule));
    const active = covering.find((c) => !isExpired(c.exception, context.now));
    if (active !== undefined) {
      applied.set(refKey(active), active.ref);
      const { warnOnly: _w, ...kept } = finding;
      waived.push({ ...kept, exception: active.ref });
      continue;
    }
    const lapsed: CandidateException | undefined = covering[0];
    if (lapsed !== undefined) expired.set(refKey(lapsed), lapsed.ref);
    const { warnOnly, ...shown } = finding;
    findings.push({
      ...shown,
      mode: warnOnly === true ? 'audit' : setting.mode,
      policy: setting.policy,
      ...(lapsed === undefined ? {} : { expiredException: lapsed.ref }),
    });
  }
  return {
    decision: decisionOf(findings),
    findings,
    waived,
    exceptionsApplied: [...applied.values()],
    exceptionsExpired: [...expired.values()],
    policyNames: resolved.matching.map((p) => p.name),
    policyVersion: set.version,
  };
}

function refKey(c: CandidateException): string {
  return `${c.ref.policy}#${c.ref.index}`;
}

export function decisionOf(findings: readonly { mode: Mode }[]): DecisionKind {
  if (findings.some((f) => f.mode === 'enforce')) return 'deny';
  if (findings.length > 0) return 'warn';
  return 'allow';
}

/** Rule ids that a decision can carry (tag-mutation is decided by the tag history). */
export type DecisionRuleId = ImageRuleId | PullRuleId;
const DECISION_RULE_IDS: readonly DecisionRuleId[] = [...IMAGE_RULE_IDS, ...PULL_RULE_IDS];
