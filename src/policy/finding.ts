export type RuleId =
  | 'run-as-root'
  | 'secret-env'
  | 'secret-history'
  | 'tag-mutation'
  | 'require-digest'
  | 'image-age'
  | 'stale-base';

/**
 * One thing a rule found. A finding names the variable and why it looks secret, never the value: findings are
 * logged, stored in the decision log and shown to clients that may not see the image.
 */
export type Finding = {
  rule: RuleId;
  /** The variable NAME (env or build arg), for secret findings. Never the value. */
  key?: string;
  /** Index into the image config's `history[]`, for secret-history findings. */
  historyIndex?: number;
  /** What the detector matched, e.g. 'aws-access-key-id', 'private-key', 'jwt', 'password-under-secret-name'. */
  kind?: string;
  message: string;
  /** Only ever warns, whatever the rule's mode (image-age with `unknown: warn`). */
  warnOnly?: boolean;
};
