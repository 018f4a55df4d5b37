import type { PolicySet, TagMutationRuleConfig } from '../policy/schema.js';
import {
  defaultTagMutationSettings,
  type TagMutationPattern,
  type TagMutationSettings,
} from './mutation-policy.js';

type Action = TagMutationPattern['action'];

function underMode(action: Action, mode: TagMutationRuleConfig['mode']): Action {
  if (mode === 'off') return 'record';
  if (mode === 'audit' && (action === 'pin' || action === 'deny')) return 'alert';
  return action;
}

/**
 * The tag-mutation settings the policy files give, as the tags component reads them. Policies are taken by
 * priority (highest first, as for the image rules). A policy's patterns are narrowed to its scope (each scope
 * glob becomes its own pattern); its class defaults (`fully-qualified`, `floating`) apply to every tag in its
 * scope, written as a pattern over all tags of that scope. An unscoped policy's class defaults become the
 * defaults. Pure: a reload recomputes it.
 */
export function tagMutationSettingsFrom(set: PolicySet): TagMutationSettings {
  const patterns: TagMutationPattern[] = [];
  const defaults = { ...defaultTagMutationSettings.defaults };
  const byPriority = [...set.policies].sort((a, b) => b.priority - a.priority);
  const defaultsTaken = { 'fully-qualified': false, floating: false };
  for (const policy of byPriority) {
    const rule = policy.rules['tag-mutation'];
    if (rule === undefined) continue;
    const repositories = policy.scope.repositories ?? [undefined];
    const upstreams = policy.scope.upstreams ?? [undefined];
    const tagScope = policy.scope.tags ?? [undefined];
    const scoped =
      policy.scope.repositories !== undefined ||
      policy.scope.upstreams !== undefined ||
      policy.scope.tags !== undefined;
    const emit = (
      tags: string,
      action: Action,
      severity: TagMutationPattern['severity'],
      narrow: { repository?: string; upstream?: string; tagClass?: TagMutationPattern['tagClass'] },
    ) => {
      for (const repository of narrow.repository !== undefined ? [narrow.repository] : repositories) {
        for (const upstream of narrow.upstream !== undefined ? [narrow.upstream] : upstreams) {
          patterns.push({
            tags,
            action: underMode(action, rule.mode),
            ...(severity !== undefined ? { severity } : {}),
            ...(repository !== undefined ? { repositories: repository } : {}),
            ...(upstream !== undefined ? { upstreams: upstream } : {}),
            ...(narrow.tagClass !== undefined ? { tagClass: narrow.tagClass } : {}),
          });
        }
      }
    };
    for (const p of rule.patterns ?? []) {
      emit(p.tags, p.action, p.severity, {
        ...(p.repositories !== undefined ? { repository: p.repositories } : {}),
        ...(p.upstreams !== undefined ? { upstream: p.upstreams } : {}),
      });
    }
    for (const tagClass of ['fully-qualified', 'floating'] as const) {
      const classRule = rule[tagClass];
      if (classRule === undefined) continue;
      if (!scoped) {
        if (!defaultsTaken[tagClass]) {
          defaults[tagClass] = {
            action: underMode(classRule.action, rule.mode),
            ...(classRule.severity ? { severity: classRule.severity } : {}),
          };
          defaultsTaken[tagClass] = true;
        }
        continue;
      }
      // "Fully qualified" is not a glob: a scoped class default becomes patterns over the scope's tags, limited
      // to that class.
      for (const tags of tagScope) emit(tags ?? '**', classRule.action, classRule.severity, { tagClass });
    }
  }
  return { patterns, defaults };
}
