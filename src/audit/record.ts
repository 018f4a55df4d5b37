import { z } from 'zod';
import { parseDigest } from '../oci/digest.js';
import { CHAIN_VERSION } from './chain.js';

// Every object below is strict: an unexpected field is an error, not silently carried into the log.
// This is how the log keeps its promise to hold rule ids and variable names, never values — a `value`
// (or any other stray field) in a finding makes append() throw instead of writing it.

const text = (max: number) => z.string().min(1).max(max);
const digest = z.string().refine((s) => parseDigest(s) !== undefined, { message: 'invalid digest' });
const hex64 = z.string().regex(/^[a-f0-9]{64}$/);

/** Rule ids are identifiers such as `run-as-root`, never free text. */
export const ruleIdSchema = z.string().regex(/^[a-z][a-z0-9-]{0,63}$/, 'rule ids are lower-case-kebab');

/**
 * A variable *name* (Env key, build ARG). No `=`, no spaces: a `NAME=value` pair cannot pass, so a
 * value cannot ride in through the key.
 */
export const variableNameSchema = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,255}$/, 'a variable name, not a value');

export const findingSchema = z.strictObject({
  rule: ruleIdSchema,
  key: variableNameSchema.optional(),
  message: text(1000),
  mode: z.enum(['enforce', 'audit']).optional(),
  /** `os/arch[/variant]` of the platform manifest the finding is about, for an index. */
  platform: text(100).optional(),
});
export type Finding = z.infer<typeof findingSchema>;

export const clientSchema = z.strictObject({
  address: text(100),
  userAgent: z.string().max(500).optional(),
  /** The authenticated name, when the client authenticated. */
  user: text(200).optional(),
});
export type AuditClient = z.infer<typeof clientSchema>;

export const policyRefSchema = z.strictObject({
  name: text(200),
  version: text(200),
});
export type PolicyRef = z.infer<typeof policyRefSchema>;

export const tagEventSchema = z.enum(['first-seen', 'unchanged', 'moved', 'pinned']);
export type TagEvent = z.infer<typeof tagEventSchema>;

export const decisionSchema = z.enum(['allow', 'warn', 'deny']);
export type Decision = z.infer<typeof decisionSchema>;

const decisionBody = z.strictObject({
  type: z.literal('decision'),
  requestId: text(200),
  client: clientSchema,
  method: z.enum(['GET', 'HEAD']),
  upstream: text(500),
  repository: text(500),
  /** The reference as the client asked for it: a tag or a digest. */
  reference: text(500),
  /** The manifest the decision is about (what was or would have been served): an index or a manifest. */
  digest: digest.optional(),
  /** The index `digest` belongs to, when the client asked for a platform manifest of a known index. */
  indexDigest: digest.optional(),
  /** The platform manifests that were judged, when `digest` is an index. */
  manifestDigests: z.array(digest).max(256).optional(),
  decision: decisionSchema,
  /** `cache`: the decision came from the decision cache for (digest, policy version). */
  decisionSource: z.enum(['fresh', 'cache']),
  findings: z.array(findingSchema).max(256),
  policy: policyRefSchema,
  /** Present when the reference is a tag. */
  tag: z
    .strictObject({
      event: tagEventSchema,
      /** For `moved` and `pinned`: the digest the tag meant before. */
      previousDigest: digest.optional(),
    })
    .optional(),
  /** Where the manifest bytes came from. */
  source: z.enum(['cache', 'upstream', 'stale']),
  /** HTTP status the client got. */
  status: z.number().int().min(100).max(599).optional(),
  durationMs: z.number().nonnegative(),
});

const reviewBody = z.strictObject({
  type: z.literal('review'),
  requestId: text(200).optional(),
  /** The reviewer's authenticated name (`break-glass` for the shared admin token). */
  actor: text(200),
  /** How the actor was authenticated (src/auth/principal.ts). */
  auth: z.enum(['password', 'token', 'admin-token']).optional(),
  action: z.enum(['approve', 'reject', 'reopen', 'pin', 'unpin']),
  alertId: text(200).optional(),
  upstream: text(500).optional(),
  repository: text(500),
  tag: text(200).optional(),
  digest: digest.optional(),
  reason: z.string().max(2000).optional(),
});

const policyLoadBody = z.strictObject({
  type: z.literal('policy-load'),
  trigger: z.enum(['start', 'reload']),
  outcome: z.enum(['loaded', 'failed']),
  /** Absent when the load failed before a name and version were known. */
  policy: policyRefSchema.optional(),
  /** The file or directory the policy was read from. */
  source: z.string().max(1000).optional(),
  /** Why a load failed: a parse or schema message, never file contents beyond what the message quotes. */
  error: z.string().max(2000).optional(),
});

const exceptionBody = z.strictObject({
  type: z.literal('exception'),
  /** `applied`: the exception changed a decision; `expired`: it has passed its expiry and no longer applies. */
  event: z.enum(['applied', 'expired']),
  exceptionId: text(200),
  policy: policyRefSchema,
  rule: ruleIdSchema.optional(),
  owner: text(200).optional(),
  reason: z.string().max(2000).optional(),
  expires: z.iso.datetime({ offset: true }).optional(),
  requestId: text(200).optional(),
  repository: text(500).optional(),
  digest: digest.optional(),
});

/** Written by the log itself when, on start, it cut an incomplete last line left by a crash. */
const recoveryBody = z.strictObject({
  type: z.literal('recovery'),
  file: text(200),
  truncatedBytes: z.number().int().nonnegative(),
  reason: z.enum(['torn-tail']),
});

/** What callers hand to append(): the log adds `v`, `seq`, `time`, `prev` and `hash`. */
export const auditInputSchema = z.discriminatedUnion('type', [
  decisionBody,
  reviewBody,
  policyLoadBody,
  exceptionBody,
  recoveryBody,
]);

const chainFields = {
  /** The record format: 2 is written; 1 (canonical JSON, see chain.ts) is still read. */
  v: z.union([z.literal(1), z.literal(CHAIN_VERSION)]),
  /** Monotonic across files, starting at 1; never reused. */
  seq: z.number().int().positive(),
  time: z.iso.datetime(),
  /** The `hash` of the record before this one (all zeros for the first record ever written). */
  prev: hex64,
  /** sha256 of this record's line without the `hash` member (see chain.ts). */
  hash: hex64,
};

export const auditRecordSchema = z.discriminatedUnion('type', [
  decisionBody.extend(chainFields),
  reviewBody.extend(chainFields),
  policyLoadBody.extend(chainFields),
  exceptionBody.extend(chainFields),
  recoveryBody.extend(chainFields),
]);

export type AuditInput = z.input<typeof auditInputSchema>;
export type AuditRecord = z.infer<typeof auditRecordSchema>;
export type AuditRecordType = AuditRecord['type'];
export type DecisionRecord = Extract<AuditRecord, { type: 'decision' }>;
export type DecisionInput = Extract<AuditInput, { type: 'decision' }>;
export type ReviewInput = Extract<AuditInput, { type: 'review' }>;
export type PolicyLoadInput = Extract<AuditInput, { type: 'policy-load' }>;
export type ExceptionInput = Extract<AuditInput, { type: 'exception' }>;
