import { describe, expect, it } from 'vitest';
import { parsePolicyFiles } from '../../../src/policy/loader/load.js';
import { tagMutationRule } from '../../../src/tags/mutation-policy.js';
import { tagMutationSettingsFrom } from '../../../src/tags/policy-settings.js';

// The tag-mutation rule in policy files becomes the tags component's settings: scope, priority and mode honoured.
const set = parsePolicyFiles([
  {
    file: 'default.yaml',
    text: `apiVersion: pullgate/v1
kind: Policy
name: default
rules:
  tag-mutation:
    fully-qualified: { action: pin, severity: high }
    floating: { action: record }
`,
  },
  {
    file: 'acme.yaml',
    text: `apiVersion: pullgate/v1
kind: Policy
name: acme
priority: 10
scope: { repositories: ["acme/**"] }
rules:
  tag-mutation:
    patterns:
      - { tags: "release-*", action: deny }
    floating: { action: alert, severity: medium }
`,
  },
  {
    file: 'vendor.yaml',
    text: `apiVersion: pullgate/v1
kind: Policy
name: vendor
priority: 5
scope: { repositories: ["vendor/*"] }
rules:
  tag-mutation:
    mode: audit
    fully-qualified: { action: pin }
`,
  },
]);

const rule = (repository: string, tag: string) =>
  tagMutationRule(tagMutationSettingsFrom(set), { upstream: 'docker.io', repository, tag });

describe('tag-mutation settings from policies', () => {
  it('uses the unscoped policy as the defaults', () => {
    expect(rule('library/nginx', '1.25.3')).toMatchObject({ action: 'pin', severity: 'high' });
    expect(rule('library/nginx', 'latest')).toMatchObject({ action: 'record' });
  });

  it('applies a scoped policy’s patterns and class settings within its scope only', () => {
    expect(rule('acme/api', 'release-7')).toMatchObject({ action: 'deny' });
    expect(rule('acme/api', 'latest')).toMatchObject({ action: 'alert', severity: 'medium' });
    expect(rule('acme/api', '2.0.1')).toMatchObject({ action: 'pin' });
    expect(rule('other/api', 'release-7')).toMatchObject({ action: 'record' });
  });

  it('turns pin into alert under audit mode', () => {
    expect(rule('vendor/tool', '4.1.0')).toMatchObject({ action: 'alert' });
  });

  it('refuses an unknown action when the policy is loaded', () => {
    expect(() =>
      parsePolicyFiles([
        {
          file: 'bad.yaml',
          text: 'apiVersion: pullgate/v1\nkind: Policy\nname: bad\nrules:\n  tag-mutation:\n    floating: { action: ignore }\n',
        },
      ]),
    ).toThrowError(/bad.yaml: rules.tag-mutation.floating.action/);
  });
});
