import { LRUCache } from 'lru-cache';
import type { Decision, EvaluationContext } from '../policy/evaluate.js';
import { evaluatePull, pullRulesInForce } from '../policy/evaluate.js';
import type { BaseState, DeclaredBase, ReferenceFacts } from '../policy/rules/index.js';
import type { PolicySet } from '../policy/schema.js';
import { combineDecisions } from './combine.js';
import type { ManifestJudgement } from './judge-manifest.js';
import type { PullFactsSource } from './pull-facts.js';
import type { GateInput } from './verdict.js';

/** A base an image manifest declares, as the gate found it (cached with the decision). */
export interface JudgedBase {
  base: DeclaredBase;
  platform?: string;
  /** The platform manifest's digest, for a platform of an index. */
  platformDigest?: string;
}

interface PullPart {
  decision: Decision;
  platform?: string;
}

/** How long a HEAD by tag that was told "refused on GET" refuses its GETs by digest (ctr retries the GET). */
const PENDING_SECONDS = 15;

/**
 * The pull rules at the gate: require-digest (the reference asked for) and stale-base (the declared bases). They
 * are judged on every request, after the cached image decision, because what they judge is not in its cache key:
 * the reference kind, and the base tag's history, which moves on its own.
 */
export class PullRules {
  /**
   * containerd resolves a tag with HEAD and fetches the digest it got with GET. A refused HEAD answers headers
   * (only a GET can carry the reason), so the GET by digest that follows, from the same client, is the pull by
   * tag and is refused as one, as are the retries ctr sends within seconds. A HEAD by digest from that client
   * starts a new pull (ctr pulling by digest) and clears it.
   */
  // Bounded by eviction: node-cache's maxKeys threw on the 100,001st refused HEAD within the window (a 500).
  private readonly pending = new LRUCache<string, ReferenceFacts>({
    max: 100_000,
    ttl: PENDING_SECONDS * 1000,
  });

  constructor(
    private readonly facts: PullFactsSource | undefined,
    /** PULLGATE_DENY_ON_HEAD: a refused HEAD is a 403 and no GET follows it. */
    private readonly denyOnHead = false,
  ) {}

  close(): void {
    this.pending.clear();
    this.facts?.close();
  }

  async judge(
    set: PolicySet,
    context: EvaluationContext,
    input: GateInput,
    bases: readonly JudgedBase[],
  ): Promise<PullPart[]> {
    const rules = pullRulesInForce(set, context);
    const parts: PullPart[] = [];
    if (rules['require-digest'].mode !== 'off') {
      const reference = await this.referenceFacts(input, rules['require-digest'].refuseRejected === true);
      const decision = evaluatePull(set, { reference }, context);
      parts.push({ decision });
      const pendingKey = this.pendingKey(input, input.manifest.digest);
      if (
        !this.denyOnHead &&
        input.reference.kind === 'tag' &&
        input.method === 'HEAD' &&
        decision.findings.some((f) => f.rule === 'require-digest' && f.mode === 'enforce')
      ) {
        this.pending.set(pendingKey, reference);
      }
    }
    if (rules['stale-base'].mode !== 'off') {
      const checkUpstream = rules['stale-base'].checkUpstream === true;
      for (const b of bases) {
        // No facts source (a gate built without the store): the base cannot be looked up, "not checked".
        const state: BaseState =
          this.facts === undefined
            ? { kind: 'unknown', why: 'pullgate has no tag history here' }
            : await this.facts.baseState(b.base, checkUpstream, input.signal).catch(() => ({
                kind: 'unknown' as const,
                why: 'the tag history could not be read',
              }));
        const decision = evaluatePull(
          set,
          { base: { ...b.base, state } },
          { ...context, platformDigest: b.platformDigest },
        );
        parts.push({ decision, ...(b.platform === undefined ? {} : { platform: b.platform }) });
      }
    }
    return parts;
  }

  private pendingKey(input: GateInput, digest: string): string {
    return `${input.client.address}|${input.client.user ?? ''}|${input.route.upstream.host}/${input.route.repository}@${digest}`;
  }

  private async referenceFacts(input: GateInput, refuseRejected: boolean): Promise<ReferenceFacts> {
    const upstream = input.route.upstream.host;
    const repository = input.route.repository;
    const served = input.manifest.digest;
    if (input.reference.kind === 'tag') {
      const key = { upstream, repository, tag: input.reference.tag };
      const plain: ReferenceFacts = { kind: 'tag', name: input.name, tag: key.tag, served };
      // Without the history the refusal still names the digest to pull; only the approval is missing.
      return this.facts === undefined
        ? plain
        : this.facts.tagFacts(key, input.name, served).catch(() => plain);
    }
    const key = this.pendingKey(input, served);
    const pending = this.pending.get(key);
    if (pending !== undefined) {
      if (input.method !== 'HEAD') return pending;
      this.pending.delete(key);
    }
    if (!refuseRejected || this.facts === undefined)
      return { kind: 'digest', name: input.name, digest: served };
    return this.facts.digestFacts(upstream, repository, input.name, served).catch(() => ({
      kind: 'digest' as const,
      name: input.name,
      digest: served,
      lookupFailed: 'the tag history could not be read',
    }));
  }
}

/** The image decision with the pull rules' findings added; refused if either refuses. */
export function withPullFindings(decided: ManifestJudgement, parts: readonly PullPart[]): ManifestJudgement {
  if (parts.length === 0) return decided;
  return { ...decided, ...combineDecisions(parts, decided) };
}
