import { describe, expect, it } from 'vitest';
import { imageFacts } from '../../../../src/policy/facts.js';
import { evaluateImageRules } from '../../../../src/policy/rules/index.js';
import { fake } from '../secrets/fake-credentials.js';

const facts = imageFacts({
  config: { User: 'app', Env: ['PATH=/usr/bin', `NPM_TOKEN=${fake.npmToken()}`] },
  history: [{ created_by: `|1 GITHUB_TOKEN=${fake.githubToken()} /bin/sh -c npm ci` }],
});

describe('evaluateImageRules', () => {
  it('runs every image rule, in rule order', () => {
    expect(evaluateImageRules(facts).map((f) => [f.rule, f.key])).toEqual([
      ['secret-env', 'NPM_TOKEN'],
      ['secret-history', 'GITHUB_TOKEN'],
    ]);
    expect(evaluateImageRules(facts, { strictRoot: true }).map((f) => f.rule)).toEqual([
      'run-as-root',
      'secret-env',
      'secret-history',
    ]);
  });

  it('runs only the rules asked for', () => {
    expect(evaluateImageRules(facts, { rules: ['secret-history'] }).map((f) => f.rule)).toEqual([
      'secret-history',
    ]);
    expect(evaluateImageRules(facts, { rules: [] })).toEqual([]);
  });
});
