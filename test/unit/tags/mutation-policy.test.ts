import { describe, expect, it } from 'vitest';
import {
  defaultTagMutationSettings,
  tagMutationRule,
  tagMutationSettingsSchema,
} from '../../../src/tags/mutation-policy.js';

const t = (tag: string, repository = 'library/nginx', upstream = 'docker.io') => ({
  tag,
  repository,
  upstream,
});

describe('tagMutationRule', () => {
  it('pins fully qualified tags and alerts at low severity on floating ones by default', () => {
    expect(tagMutationRule(defaultTagMutationSettings, t('1.25.3'))).toMatchObject({
      action: 'pin',
      severity: 'high',
    });
    expect(tagMutationRule(defaultTagMutationSettings, t('latest'))).toMatchObject({
      action: 'alert',
      severity: 'low',
    });
  });

  it('lets the first matching pattern win, scoped by repository and upstream globs', () => {
    const settings = tagMutationSettingsSchema.parse({
      patterns: [
        { tags: 'latest', repositories: 'library/*', action: 'record' },
        { tags: '*', repositories: 'prod/**', upstreams: 'ghcr.io', action: 'deny', severity: 'critical' },
      ],
    });
    expect(tagMutationRule(settings, t('latest'))).toMatchObject({ action: 'record', pattern: 0 });
    expect(tagMutationRule(settings, t('latest', 'org/app'))).toMatchObject({
      action: 'alert',
      pattern: undefined,
    });
    expect(tagMutationRule(settings, t('3', 'prod/team/api', 'ghcr.io'))).toMatchObject({
      action: 'deny',
      severity: 'critical',
    });
    expect(tagMutationRule(settings, t('3', 'prod/team/api', 'docker.io')).action).toBe('alert');
  });

  it('refuses unknown actions', () => {
    expect(tagMutationSettingsSchema.safeParse({ patterns: [{ tags: '*', action: 'ignore' }] }).success).toBe(
      false,
    );
  });
});
