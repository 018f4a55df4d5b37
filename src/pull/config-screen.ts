import { LRUCache } from 'lru-cache';
import { evaluateStrictest, resolveStrictest, SCREENED_RULE_IDS } from '../policy/evaluate.js';
import { configDocumentFacts } from '../policy/facts.js';
import type { PolicySet } from '../policy/schema.js';
import type { ConfigAllowanceKey, ConfigAllowanceStore } from '../store/config-allowances.js';
import type { UpstreamRepository } from '../upstream/router.js';

/** Who asks for a blob, as policy scopes see a client. */
export interface ScreenClient {
  address: string;
  user: string | undefined;
}

export type ScreenVerdict =
  | { kind: 'pass' }
  | {
      kind: 'refuse';
      message: string;
      /** Per finding its rule, the variable name (never the value) and its message. */
      findings: { rule: string; key?: string; message: string }[];
      policyVersion: string;
      policyNames: string[];
    };

export interface ConfigScreenOptions {
  /** The policy set in force; undefined when policies are off (then nothing is refused). */
  policies: () => PolicySet | undefined;
  /** Durable allowances shared by every replica; without it only this process's are known. */
  allowances?: ConfigAllowanceStore;
  now?: () => Date;
  onError?: (err: unknown, context: string) => void;
}

const PASS: ScreenVerdict = { kind: 'pass' };
const MAX_ENTRIES = 10_000;
/** Verdicts are reused this long: exceptions expire, so a reading cannot be kept for ever. */
const VERDICT_TTL_MS = 60_000;

/**
 * Judges blobs asked for by digest that may be image configs (issue 10, path 1). A config holds the very secret
 * its image was refused for, and for a public image its digest is public: serving it by digest would be a way
 * around `secret-env`. Nothing here depends on having seen the manifest, so it holds after a restart, on every
 * replica, and for a config asked for before (or without) its manifest.
 *
 * A blob that reads as an image config is judged by the strictest reading of the policies that match its
 * repository (the tag is unknown). It passes when that reading allows it, or when the policy gate allowed this
 * very config for this client under this policy version (the gate saw the tag: a tag-scoped policy may allow
 * what the strictest reading refuses). Anything else that is not a config (layers, SBOMs, `{}`) passes.
 */
export class ConfigScreen {
  // Bounded and expiring on the screen's own clock (tests move it).
  private readonly verdicts = new LRUCache<string, ScreenVerdict>({
    max: MAX_ENTRIES,
    ttl: VERDICT_TTL_MS,
    ttlResolution: 0,
    perf: { now: () => this.now().getTime() },
  });
  private readonly allowed = new Set<string>();
  private readonly now: () => Date;

  constructor(private readonly options: ConfigScreenOptions) {
    this.now = options.now ?? (() => new Date());
  }

  static clientKey(client: ScreenClient): string {
    return client.user !== undefined ? `user:${client.user}` : `address:${client.address}`;
  }

  /**
   * Records that the gate allowed this config for this client (awaited, so another replica that gets the config
   * request a moment later finds it). A failure to record only means the strict reading applies later.
   */
  async allow(
    route: UpstreamRepository,
    digest: string,
    client: ScreenClient,
    policyVersion: string,
  ): Promise<void> {
    const key = allowance(route, digest, client, policyVersion);
    const memoryKey = allowanceKey(key);
    if (this.allowed.has(memoryKey)) return;
    if (this.allowed.size >= MAX_ENTRIES) this.allowed.clear();
    this.allowed.add(memoryKey);
    try {
      await this.options.allowances?.record(key, this.now());
    } catch (err) {
      this.options.onError?.(err, 'failed to record a config allowance');
    }
  }

  /**
   * The verdict for one client's request (`client` given), or for every client at once (`undefined`: whether the
   * bytes may be written to the shared cache, where any client could then read them).
   */
  async screen(
    route: UpstreamRepository,
    digest: string,
    bytes: Uint8Array,
    client: ScreenClient | undefined,
  ): Promise<ScreenVerdict> {
    const set = this.options.policies();
    if (set === undefined) return PASS;
    const who = client === undefined ? '*' : ConfigScreen.clientKey(client);
    const key = `${set.version}|${route.upstream.host}/${route.repository}|${digest}|${who}`;
    let verdict = this.verdicts.get(key);
    if (verdict === undefined) {
      verdict = this.judge(set, route, digest, bytes, client, this.now());
      this.verdicts.set(key, verdict);
    }
    if (verdict.kind === 'pass' || client === undefined) return verdict;
    return (await this.isAllowed(route, digest, client, set.version)) ? PASS : verdict;
  }

  /**
   * A blob that starts like a JSON document but is larger than pullgate reads into memory may be an image config
   * it cannot judge: refused wherever the strictest reading enforces an image rule (fail closed), passed where
   * every rule is off or audited.
   */
  tooLargeToJudge(route: UpstreamRepository, client: ScreenClient | undefined, limit: number): ScreenVerdict {
    const set = this.options.policies();
    if (set === undefined) return PASS;
    const rules = resolveStrictest(
      set,
      {
        upstream: route.upstream.host,
        repository: route.repository,
        tag: undefined,
        user: client?.user,
        address: client?.address ?? '',
      },
      { anyClient: client === undefined },
    ).rules;
    const enforced = SCREENED_RULE_IDS.filter((r) => rules[r].mode === 'enforce' && rules[r].failClosed);
    if (enforced.length === 0) return PASS;
    return {
      kind: 'refuse',
      message: `blob is a JSON document larger than ${limit} bytes (PULLGATE_CONFIG_MAX_BYTES): it may be an image config, and cannot be judged`,
      findings: enforced.map((rule) => ({
        rule,
        message: `${rule}: not checked, the blob is too large to judge`,
      })),
      policyVersion: set.version,
      policyNames: [...new Set(enforced.flatMap((r) => rules[r].policy ?? []))],
    };
  }

  private judge(
    set: PolicySet,
    route: UpstreamRepository,
    digest: string,
    bytes: Uint8Array,
    client: ScreenClient | undefined,
    now: Date,
  ): ScreenVerdict {
    const facts = configDocumentFacts(bytes);
    if (facts === undefined) return PASS;
    const decision = evaluateStrictest(
      set,
      facts,
      {
        upstream: route.upstream.host,
        repository: route.repository,
        tag: undefined,
        user: client?.user,
        address: client?.address ?? '',
        digest,
        now,
      },
      { anyClient: client === undefined },
    );
    if (decision.decision !== 'deny') return PASS;
    const enforced = decision.findings.filter((f) => f.mode === 'enforce');
    const messages = [...new Set(enforced.map((f) => f.message))];
    return {
      kind: 'refuse',
      message: `blob is the image config of an image refused by policy: ${messages.join('; ')}`,
      findings: enforced.map((f) => ({
        rule: f.rule,
        ...(f.key === undefined ? {} : { key: f.key }),
        message: f.message,
      })),
      policyVersion: set.version,
      policyNames: decision.policyNames,
    };
  }

  private async isAllowed(
    route: UpstreamRepository,
    digest: string,
    client: ScreenClient,
    policyVersion: string,
  ): Promise<boolean> {
    const key = allowance(route, digest, client, policyVersion);
    if (this.allowed.has(allowanceKey(key))) return true;
    if (this.options.allowances === undefined) return false;
    try {
      const found = await this.options.allowances.has(key);
      if (found) this.allowed.add(allowanceKey(key));
      return found;
    } catch (err) {
      // Cannot tell: the strict reading stands (fail closed).
      this.options.onError?.(err, 'failed to read config allowances');
      return false;
    }
  }
}

function allowance(
  route: UpstreamRepository,
  digest: string,
  client: ScreenClient,
  policyVersion: string,
): ConfigAllowanceKey {
  return {
    upstream: route.upstream.host,
    repository: route.repository,
    digest,
    policyVersion,
    client: ConfigScreen.clientKey(client),
  };
}

function allowanceKey(k: ConfigAllowanceKey): string {
  return `${k.upstream}\0${k.repository}\0${k.digest}\0${k.policyVersion}\0${k.client}`;
}
