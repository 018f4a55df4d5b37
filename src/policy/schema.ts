import { isIP } from 'node:net';
import { z } from 'zod';

// The policy file format, `apiVersion: pullgate/v1`, `kind: Policy`. One schema for YAML and JSON files;
// policies/README.md documents every field with examples. Strict objects: a misspelt key (`scopes:`) is an
// error naming the path, not a silently ignored rule.

export const ruleModeSchema = z.enum(['enforce', 'audit', 'off']);
export type RuleMode = z.infer<typeof ruleModeSchema>;

const glob = z.string().min(1, 'must not be empty');
const globList = z.array(glob).min(1, 'must list at least one entry (omit the key to match everything)');

const cidr = z.string().refine(isCidr, {
  message: 'must be an IPv4 or IPv6 address or CIDR block, e.g. 10.0.0.0/8 or fd00::/8',
});

export const clientScopeSchema = z.strictObject({
  /** Authenticated user names (exact). A pull without credentials matches no `users` scope. */
  users: z.array(z.string().min(1)).min(1).optional(),
  /** Source networks in CIDR notation, IPv4 or IPv6. */
  networks: z.array(cidr).min(1).optional(),
});

export const scopeSchema = z.strictObject({
  /** Upstream registry hosts, as clients name them: `docker.io`, `ghcr.io`. Globs. */
  upstreams: globList.optional(),
  /** Repository globs on the upstream: `library/*`, `acme/**`. */
  repositories: globList.optional(),
  /** Tag globs. A pull by digest inherits the tag most recently resolved to that digest (see README). */
  tags: globList.optional(),
  clients: clientScopeSchema.optional(),
});
export type Scope = z.infer<typeof scopeSchema>;

const imageRuleSchema = z.strictObject({ mode: ruleModeSchema });

export const runAsRootRuleSchema = z.strictObject({
  mode: ruleModeSchema,
  /** Kubelet `runAsNonRoot` reading: refuse users given by name (they cannot be proven non-root). */
  strict: z.boolean().optional(),
});

// The tag-mutation rule: what happens when a tag's digest changes upstream (src/tags/mutation-policy.ts).
// `patterns` are tried first, in order, within the policy's scope; then the default for the tag's class.
const tagMutationActionSchema = z.enum(['alert', 'pin', 'deny', 'record']);
const tagSeveritySchema = z.enum(['info', 'low', 'medium', 'high', 'critical']);
const tagMutationClassRule = z.strictObject({
  action: tagMutationActionSchema,
  severity: tagSeveritySchema.optional(),
});
const tagMutationRuleSchema = z.strictObject({
  /** enforce: as configured; audit: `pin` and `deny` only alert; off: history is recorded, nothing else. */
  mode: ruleModeSchema.optional(),
  patterns: z
    .array(
      tagMutationClassRule.extend({
        tags: glob,
        repositories: glob.optional(),
        upstreams: glob.optional(),
      }),
    )
    .optional(),
  'fully-qualified': tagMutationClassRule.optional(),
  floating: tagMutationClassRule.optional(),
});
export type TagMutationRuleConfig = z.infer<typeof tagMutationRuleSchema>;

// Issue 13: the other two Dockerfile practices at the gate (policies/README.md, "Pinning and freshness").
export const requireDigestRuleSchema = z.strictObject({
  /** enforce: a pull by tag in scope is refused (the message names the digest to pull); audit: warned. */
  mode: ruleModeSchema,
  /** Also refuse, by digest, a digest a reviewer rejected for a tag of this repository (a tag-mutation alert). */
  refuseRejected: z.boolean().optional(),
});

export const imageAgeRuleSchema = z.strictObject({
  mode: ruleModeSchema,
  /** An image config `created` more than this many days before the pull is too old. */
  maxAgeDays: z.number().int().min(1).max(36_500),
  /** A missing, unparseable, zero or 1970 `created` (reproducible builds): allow (default), warn or deny. */
  unknown: z.enum(['allow', 'warn', 'deny']).optional(),
});

export const staleBaseRuleSchema = z.strictObject({
  mode: ruleModeSchema,
  /**
   * Also ask the base's upstream what its tag points to now (one HEAD, cached and rate-limited), when pullgate's
   * own tag history cannot tell. Default false: the tag history only.
   */
  checkUpstream: z.boolean().optional(),
});

export const rulesSchema = z.strictObject({
  'run-as-root': runAsRootRuleSchema.optional(),
  'secret-env': imageRuleSchema.optional(),
  'secret-history': imageRuleSchema.optional(),
  'tag-mutation': tagMutationRuleSchema.optional(),
  'require-digest': requireDigestRuleSchema.optional(),
  'image-age': imageAgeRuleSchema.optional(),
  'stale-base': staleBaseRuleSchema.optional(),
});
export type RulesConfig = z.infer<typeof rulesSchema>;

const exceptionRuleId = z.enum([
  'run-as-root',
  'secret-env',
  'secret-history',
  'tag-mutation',
  'require-digest',
  'image-age',
  'stale-base',
]);

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}(?:T[\d:.]+(?:Z|[+-]\d{2}:\d{2}))?$/, 'must be a date, YYYY-MM-DD or an ISO time')
  .refine((s) => !Number.isNaN(Date.parse(s)), 'must be a real date');

const digest = z
  .string()
  .regex(/^sha(?:256:[a-f0-9]{64}|512:[a-f0-9]{128})$/, 'must be a sha256:<64 hex> digest');

export const exceptionSchema = z
  .strictObject({
    rules: z.array(exceptionRuleId).min(1, 'must name at least one rule'),
    repositories: globList.optional(),
    digests: z.array(digest).min(1).optional(),
    reason: z.string().trim().min(1, 'must say why the exception exists'),
    owner: z.string().trim().min(1, 'must name who owns the exception'),
    /** The exception stops applying at the start of this day (UTC) or at this instant. */
    expires: z.union([isoDate, z.date().transform((d) => d.toISOString().slice(0, 10))]),
  })
  .refine((e) => e.repositories !== undefined || e.digests !== undefined, {
    message: 'an exception needs a scope: list repositories or digests',
  });
export type PolicyException = z.infer<typeof exceptionSchema>;

export const policySchema = z.strictObject({
  apiVersion: z.literal('pullgate/v1'),
  kind: z.literal('Policy'),
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'must be lower-case letters, digits, ".", "_" or "-"'),
  description: z.string().optional(),
  /** Higher wins when several policies set the same rule for one pull. Default 0. */
  priority: z.number().int().min(-1000).max(1000).default(0),
  /** Omitted: the policy applies to every pull. */
  scope: scopeSchema.default({}),
  rules: rulesSchema.default({}),
  exceptions: z.array(exceptionSchema).default([]),
  /** When the image config cannot be fetched: refuse (true, default) if an image rule is enforced here. */
  failClosed: z.boolean().optional(),
  /** Non-image artifacts (Helm charts, signatures): `ignore` (default) or `judge` with the image rules. */
  artifacts: z.enum(['ignore', 'judge']).optional(),
});
export type Policy = z.infer<typeof policySchema>;
export type PolicyInput = z.input<typeof policySchema>;

/** A policy as loaded: where it came from is kept for error messages and `policy check`. */
export type LoadedPolicy = Policy & { source: string };

export interface PolicySet {
  policies: LoadedPolicy[];
  /** Short content hash of the files the policies came from. */
  version: string;
}

function isCidr(value: string): boolean {
  const slash = value.indexOf('/');
  const address = slash < 0 ? value : value.slice(0, slash);
  const family = isIP(address);
  if (family === 0) return false;
  if (slash < 0) return true;
  const bits = value.slice(slash + 1);
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}
