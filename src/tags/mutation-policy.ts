import picomatch from 'picomatch';
import { z } from 'zod';
import { classifyTag, type TagClass } from './classify-tag.js';

export const tagMutationActions = ['alert', 'pin', 'deny', 'record'] as const;
export type TagMutationAction = (typeof tagMutationActions)[number];
export const severities = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type AlertSeverity = (typeof severities)[number];

const ruleSchema = z.strictObject({
  action: z.enum(tagMutationActions),
  severity: z.enum(severities).optional(),
});

export const tagMutationPatternSchema = ruleSchema.extend({
  /** Glob over the tag (`1.*`, `latest`). */
  tags: z.string().min(1),
  /** Glob over the repository on the upstream (`library/*`, `org/**`); all when absent. */
  repositories: z.string().min(1).optional(),
  /** Glob over the upstream host (`docker.io`, `ghcr.io`); all when absent. */
  upstreams: z.string().min(1).optional(),
  /** Only tags of this class (a policy's scoped `fully-qualified` / `floating` setting); all when absent. */
  tagClass: z.enum(['fully-qualified', 'floating']).optional(),
});
export type TagMutationPattern = z.infer<typeof tagMutationPatternSchema>;

/**
 * The `tag-mutation` rule's settings: the first matching pattern wins; otherwise the default for the tag's class.
 * `alert` serves the new digest and raises an alert; `pin` keeps serving the approved digest until a reviewer
 * approves; `deny` refuses the tag until it is reviewed; `record` only keeps the history (the new digest
 * becomes the approved one, no alert).
 */
export const tagMutationSettingsSchema = z.strictObject({
  patterns: z.array(tagMutationPatternSchema).default([]),
  defaults: z
    .strictObject({
      'fully-qualified': ruleSchema.default({ action: 'pin', severity: 'high' }),
      floating: ruleSchema.default({ action: 'alert', severity: 'low' }),
    })
    .default({
      'fully-qualified': { action: 'pin', severity: 'high' },
      floating: { action: 'alert', severity: 'low' },
    }),
});
export type TagMutationSettings = z.infer<typeof tagMutationSettingsSchema>;

export const defaultTagMutationSettings: TagMutationSettings = tagMutationSettingsSchema.parse({});

export interface TagMutationRule {
  action: TagMutationAction;
  severity: AlertSeverity;
  tagClass: TagClass;
  /** Index of the matching pattern, or undefined when the class default applied. */
  pattern: number | undefined;
}

const defaultSeverity: Record<TagMutationAction, AlertSeverity> = {
  pin: 'high',
  deny: 'high',
  alert: 'medium',
  record: 'info',
};

function matches(glob: string | undefined, value: string): boolean {
  return glob === undefined || picomatch.isMatch(value, glob, { dot: true });
}

/** Pure: which action the tag-mutation rule takes for this tag. */
export function tagMutationRule(
  settings: TagMutationSettings,
  target: { upstream: string; repository: string; tag: string },
): TagMutationRule {
  const tagClass = classifyTag(target.tag);
  for (const [i, p] of settings.patterns.entries()) {
    if (
      (p.tagClass === undefined || p.tagClass === tagClass) &&
      matches(p.tags, target.tag) &&
      matches(p.repositories, target.repository) &&
      matches(p.upstreams, target.upstream)
    ) {
      return { action: p.action, severity: p.severity ?? defaultSeverity[p.action], tagClass, pattern: i };
    }
  }
  const d = settings.defaults[tagClass];
  return {
    action: d.action,
    severity: d.severity ?? defaultSeverity[d.action],
    tagClass,
    pattern: undefined,
  };
}
