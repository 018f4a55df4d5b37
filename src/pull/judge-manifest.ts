import { LRUCache } from 'lru-cache';
import { Coalescer } from '../cache/coalesce.js';
import type { ConfigFetcher } from '../cache/config-fetcher.js';
import type { ManifestBytes, ManifestService } from '../cache/manifest-service.js';
import { parseDigest } from '../oci/digest.js';
import {
  type Descriptor,
  type ImageManifest,
  type ParsedManifest,
  parseManifest,
  platformImages,
} from '../oci/manifest.js';
import { isImageConfigMediaType, isIndexMediaType, mediaType } from '../oci/media-types.js';
import {
  type Decision,
  type DecisionKind,
  type EvaluationContext,
  evaluate,
  evaluateUnavailable,
  resolvePolicies,
} from '../policy/evaluate.js';
import type { ExceptionRef } from '../policy/exceptions.js';
import { exceptionExpiresAt } from '../policy/exceptions.js';
import { imageFacts } from '../policy/facts.js';
import type { PolicyEngine } from '../policy/loader/engine.js';
import { declaredBase } from '../policy/rules/index.js';
import type { PolicySet } from '../policy/schema.js';
import { scopeMatches } from '../policy/scope.js';
import type { UpstreamRepository } from '../upstream/router.js';
import { combineDecisions } from './combine.js';
import type { PullFactsSource } from './pull-facts.js';
import { type JudgedBase, PullRules, withPullFindings } from './pull-rules.js';
import type { GateFinding, GateInput, ManifestGate, Verdict, VerdictException } from './verdict.js';

export interface PolicyGateDependencies {
  manifests: Pick<ManifestService, 'getByDigest'>;
  configs: Pick<ConfigFetcher, 'fetch'> & Partial<Pick<ConfigFetcher, 'keep' | 'forget'>>;
  now: () => Date;
  /** Seconds a decision is reused (also bounded by the next exception expiry). Default 600. */
  decisionTtlSeconds?: number;
  /**
   * Called, and awaited, for each image config of a manifest served to a client: the blob route then serves that
   * config to that client by digest even where the strictest reading of the policies (tag unknown) refuses it.
   */
  allowConfig?: (
    route: UpstreamRepository,
    configDigest: string,
    client: GateInput['client'],
    policyVersion: string,
  ) => Promise<void>;
  /** Tag history facts for require-digest and stale-base; without it they judge the reference alone. */
  pullFacts?: PullFactsSource;
  /** PULLGATE_DENY_ON_HEAD (see pull-gate.ts). */
  denyOnHead?: boolean;
}

/** What the gate decided for one manifest, as cached. */
export interface ManifestJudgement {
  decision: DecisionKind;
  findings: GateFinding[];
  waived: GateFinding[];
  exceptionsApplied: ExceptionRef[];
  exceptionsExpired: ExceptionRef[];
  policyNames: string[];
  policyVersion: string;
  /** Decided without the facts (config unavailable): not cached, the next pull tries again. */
  transient: boolean;
  /** Digests of the image configs judged and not refused (the blob route may serve them to this client). */
  configs: string[];
  /** Bases the image manifests declare, for stale-base (judged per request, see pull-gate.ts). */
  bases: JudgedBase[];
}

interface ImageJudgement {
  decision: Decision;
  transient: boolean;
  platform?: string;
  /** Config digest of a judged image manifest, with whether its rules refused it. */
  config?: { digest: string; refused: boolean };
  base?: JudgedBase;
}

const IMAGE_MANIFEST_ACCEPT = [mediaType.ociManifest, mediaType.dockerManifest].join(', ');
const MAX_INDEX_DEPTH = 2;

/**
 * The policy engine at the manifest route: every manifest served (tag or digest, GET or HEAD) is judged here.
 * An image manifest by its config blob; an index by its platform manifests (attestations skipped); other
 * artifacts only if a policy asks. Decisions are cached per (manifest digest, policy version, the policies and
 * exceptions in scope), so HEAD and GET agree and a repeat pull costs no second evaluation.
 */
export class PolicyGate implements ManifestGate {
  // Bounded: a flood of distinct digests evicts the oldest decisions (re-judged when pulled again) instead of growing
  // the heap for their whole TTL.
  private readonly decisions = new LRUCache<string, ManifestJudgement>({ max: 50_000 });
  /** upstream/repository@digest → the tag last resolved to it, so a pull by digest meets tag scopes too. */
  private readonly tagOf = new LRUCache<string, string>({ max: 100_000, ttl: 3600 * 1000 });
  private readonly judging = new Coalescer<ManifestJudgement>();
  private evaluations = 0;
  private readonly pullRules: PullRules;

  constructor(
    private readonly engine: Pick<PolicyEngine, 'current'>,
    private readonly deps: PolicyGateDependencies,
  ) {
    this.pullRules = new PullRules(deps.pullFacts, deps.denyOnHead === true);
  }

  /** How many evaluations ran (not served from the cache): for tests and metrics. */
  get evaluationCount(): number {
    return this.evaluations;
  }

  close(): void {
    this.decisions.clear();
    this.tagOf.clear();
    this.pullRules.close();
  }

  async judge(input: GateInput): Promise<Verdict> {
    const set = this.engine.current;
    const upstream = input.route.upstream.host;
    const repository = input.route.repository;
    const digest = input.manifest.digest;
    const tagKey = `${upstream}/${repository}@${digest}`;
    let tag: string | undefined;
    if (input.reference.kind === 'tag') {
      tag = input.reference.tag;
      this.tagOf.set(tagKey, tag);
    } else {
      tag = this.tagOf.get(tagKey);
    }
    const context: EvaluationContext = {
      upstream,
      repository,
      tag,
      user: input.client.user,
      address: input.client.address,
      digest,
      now: this.deps.now(),
    };
    // The cache key holds what can change the decision: which policies are in scope for this client and
    // reference (user, network, tag), the repository (exceptions), the digest and the policy version.
    const inScope = set.policies.flatMap((p, i) => (scopeMatches(p.scope, context) ? [i] : []));
    const key = `${digest}|${set.version}|${upstream}/${repository}|${inScope.join(',')}`;
    const cached = this.decisions.get(key);
    const decided =
      cached ??
      (await this.judging.run(key, input.signal, async (signal) => {
        const result = await this.judgeManifest(set, context, input.route, input.manifest, signal);
        if (!result.transient) this.decisions.set(key, result, { ttl: this.ttlSeconds(set, context) * 1000 });
        return result;
      }));
    const pull = await this.pullRules.judge(set, context, input, decided.bases);
    const final = withPullFindings(decided, pull);
    if (final.decision !== 'deny' && this.deps.allowConfig !== undefined) {
      const allow = this.deps.allowConfig;
      await Promise.all(decided.configs.map((c) => allow(input.route, c, input.client, set.version)));
    }
    return toVerdict(final, cached !== undefined);
  }

  private ttlSeconds(set: PolicySet, context: EvaluationContext): number {
    let ttl = this.deps.decisionTtlSeconds ?? 600;
    const now = context.now.getTime();
    for (const policy of resolvePolicies(set, context).matching) {
      for (const exception of policy.exceptions) {
        const left = (exceptionExpiresAt(exception).getTime() - now) / 1000;
        if (left > 0) ttl = Math.min(ttl, Math.ceil(left));
      }
    }
    return Math.max(1, ttl);
  }

  private async judgeManifest(
    set: PolicySet,
    context: EvaluationContext,
    route: UpstreamRepository,
    manifest: ManifestBytes,
    signal: AbortSignal,
  ): Promise<ManifestJudgement> {
    const parsed = parseManifest(manifest.bytes, manifest.mediaType);
    const judged = await this.judgeParsed(set, context, route, parsed, signal, 0, undefined);
    this.evaluations++;
    const combined = combine(set, judged);
    for (const j of judged) {
      if (j.config === undefined) continue;
      // Only a config whose whole manifest is served may reach the disk: a refused image's config holds the very
      // secret it was refused for.
      if (j.config.refused || combined.decision === 'deny') this.deps.configs.forget?.(j.config.digest);
      else this.deps.configs.keep?.(j.config.digest);
    }
    return combined;
  }

  private async judgeParsed(
    set: PolicySet,
    context: EvaluationContext,
    route: UpstreamRepository,
    parsed: ParsedManifest,
    signal: AbortSignal,
    depth: number,
    platform: string | undefined,
  ): Promise<ImageJudgement[]> {
    switch (parsed.kind) {
      case 'image':
        return [await this.judgeImage(set, context, route, parsed.manifest, signal, platform)];
      case 'index': {
        const children = platformImages(parsed.index, { nestedIndexes: depth < MAX_INDEX_DEPTH });
        const results = await Promise.all(
          children.map((child) => this.judgeChild(set, context, route, child, signal, depth)),
        );
        return results.flat();
      }
      case 'unknown':
        // Not a manifest pullgate understands (schema 1, an HTML page, a blob): it cannot be judged, so every rule
        // in force says so, and enforced rules refuse (fail closed). Not transient: the bytes will not change.
        return [
          {
            decision: evaluateUnavailable(set, context, `the manifest cannot be judged (${parsed.why})`),
            transient: false,
            ...withPlatform(platform),
          },
        ];
    }
  }

  private async judgeChild(
    set: PolicySet,
    context: EvaluationContext,
    route: UpstreamRepository,
    child: Descriptor,
    signal: AbortSignal,
    depth: number,
  ): Promise<ImageJudgement[]> {
    const platform = platformLabel(child);
    const childContext: EvaluationContext = { ...context, platformDigest: child.digest };
    const digest = parseDigest(child.digest);
    if (digest === undefined) {
      return [unavailable(set, childContext, 'the index names an invalid digest', platform)];
    }
    let bytes: ManifestBytes;
    try {
      bytes = await this.deps.manifests.getByDigest(
        route,
        digest,
        isIndexMediaType(child.mediaType) ? child.mediaType : IMAGE_MANIFEST_ACCEPT,
        signal,
      );
    } catch (err) {
      if (signal.aborted) throw err;
      return [
        unavailable(
          set,
          childContext,
          `the platform manifest could not be fetched (${reason(err)})`,
          platform,
        ),
      ];
    }
    const parsed = parseManifest(bytes.bytes, bytes.mediaType);
    return this.judgeParsed(set, childContext, route, parsed, signal, depth + 1, platform);
  }

  private async judgeImage(
    set: PolicySet,
    context: EvaluationContext,
    route: UpstreamRepository,
    manifest: ImageManifest,
    signal: AbortSignal,
    platform: string | undefined,
  ): Promise<ImageJudgement> {
    const config = manifest.config;
    const isImage = isImageConfigMediaType(config.mediaType);
    const based = (labels?: Record<string, string>): { base?: JudgedBase } => {
      const base = isImage ? declaredBase(manifest.annotations, labels) : undefined;
      if (base === undefined) return {};
      return {
        base: {
          base,
          ...withPlatform(platform),
          ...(context.platformDigest === undefined ? {} : { platformDigest: context.platformDigest }),
        },
      };
    };
    if (!isImage && resolvePolicies(set, context).artifacts === 'ignore') {
      // Helm charts, signatures, SBOMs: image rules do not apply (issue 3, "Where rules apply").
      return { decision: emptyDecision(set, context), transient: false, ...withPlatform(platform) };
    }
    let bytes: Buffer;
    try {
      bytes = await this.deps.configs.fetch(route, config.digest, signal);
    } catch (err) {
      if (signal.aborted) throw err;
      return {
        ...unavailable(set, context, `the image config could not be fetched (${reason(err)})`, platform),
        ...based(),
      };
    }
    let facts: ReturnType<typeof imageFacts>;
    try {
      facts = imageFacts(JSON.parse(bytes.toString('utf8')));
    } catch {
      // Not JSON or not shaped like an image config. Never echo the content: it may hold the secret.
      const decision = evaluateUnavailable(
        set,
        context,
        isImage
          ? 'the image config is not a valid image config'
          : 'the artifact config is not an image config',
      );
      return { decision, transient: false, ...withPlatform(platform), ...based() };
    }
    const decision = evaluate(set, facts, context);
    const refused = decision.decision === 'deny';
    return {
      decision,
      transient: false,
      config: { digest: config.digest, refused },
      ...withPlatform(platform),
      ...based(facts.labels),
    };
  }
}

function withPlatform(platform: string | undefined): { platform?: string } {
  return platform === undefined ? {} : { platform };
}

function unavailable(
  set: PolicySet,
  context: EvaluationContext,
  why: string,
  platform: string | undefined,
): ImageJudgement {
  return { decision: evaluateUnavailable(set, context, why), transient: true, ...withPlatform(platform) };
}

function emptyDecision(set: PolicySet, context: EvaluationContext): Decision {
  return {
    decision: 'allow',
    findings: [],
    waived: [],
    exceptionsApplied: [],
    exceptionsExpired: [],
    policyNames: resolvePolicies(set, context).matching.map((p) => p.name),
    policyVersion: set.version,
  };
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : 'error';
}

export function platformLabel(descriptor: Descriptor): string | undefined {
  const p = descriptor.platform;
  if (p === undefined) return undefined;
  return [p.os, p.architecture, p.variant].filter((s) => s !== undefined && s !== '').join('/');
}

/** One decision for the whole manifest: an index is refused if any platform is. */
function combine(set: PolicySet, judged: readonly ImageJudgement[]): ManifestJudgement {
  return {
    ...combineDecisions(judged),
    policyVersion: set.version,
    transient: judged.some((j) => j.transient),
    configs: judged.flatMap((j) => (j.config === undefined || j.config.refused ? [] : [j.config.digest])),
    bases: judged.flatMap((j) => (j.base === undefined ? [] : [j.base])),
  };
}

/**
 * Messages name each rule and variable (never a value), once, with the platforms that have it:
 * `run-as-root: image config has no USER (runs as root) [linux/amd64, linux/arm64]`.
 */
export function summarize(findings: readonly GateFinding[], expired: readonly ExceptionRef[] = []): string[] {
  const byMessage = new Map<string, string[]>();
  for (const f of findings) {
    const platforms = byMessage.get(f.message) ?? [];
    if (f.platform !== undefined && !platforms.includes(f.platform)) platforms.push(f.platform);
    byMessage.set(f.message, platforms);
  }
  const out = [...byMessage].map(([message, platforms]) =>
    platforms.length === 0 ? message : `${message} [${platforms.join(', ')}]`,
  );
  for (const e of expired) {
    out.push(
      `exception ${e.policy}#${e.index} for ${e.rules.join(', ')} (owner ${e.owner}) expired ${e.expires}`,
    );
  }
  return out;
}

function toVerdict(d: ManifestJudgement, cached: boolean): Verdict {
  const policy = {
    version: d.policyVersion,
    names: d.policyNames,
    exceptionsApplied: d.exceptionsApplied.map(exceptionRecord),
    exceptionsExpired: d.exceptionsExpired.map(exceptionRecord),
    waived: d.waived,
    cached,
  };
  switch (d.decision) {
    case 'deny': {
      const enforced = d.findings.filter((f) => f.mode === 'enforce');
      const audited = d.findings.filter((f) => f.mode !== 'enforce');
      const message = summarize(enforced, d.exceptionsExpired).join('; ');
      const extra = audited.length > 0 ? `; audit: ${summarize(audited).join('; ')}` : '';
      return { kind: 'deny', findings: d.findings, message: `${message}${extra}`, policy };
    }
    case 'warn':
      return {
        kind: 'warn',
        findings: d.findings,
        warnings: summarize(d.findings, d.exceptionsExpired).map((m) => `pullgate policy audit: ${m}`),
        policy,
      };
    case 'allow':
      return { kind: 'allow', findings: [], policy };
  }
}

function exceptionRecord(e: ExceptionRef): VerdictException {
  return { ...e, rules: [...e.rules] };
}
