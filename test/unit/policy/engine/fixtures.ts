import { stringify } from 'yaml';
import type { EvaluationContext } from '../../../../src/policy/evaluate.js';
import type { ImageFacts } from '../../../../src/policy/facts.js';
import { imageFacts } from '../../../../src/policy/facts.js';
import { parsePolicyFiles } from '../../../../src/policy/loader/load.js';
import type { PolicySet } from '../../../../src/policy/schema.js';

/** A policy document with the required header filled in. */
export function policy(name: string, body: Record<string, unknown> = {}): Record<string, unknown> {
  return { apiVersion: 'pullgate/v1', kind: 'Policy', name, ...body };
}

/** Policies as if loaded from files named after them. */
export function policySet(...docs: Record<string, unknown>[]): PolicySet {
  return parsePolicyFiles(docs.map((d) => ({ file: `${String(d.name)}.yaml`, text: stringify(d) })));
}

export const enforceAll = {
  'run-as-root': { mode: 'enforce' },
  'secret-env': { mode: 'enforce' },
  'secret-history': { mode: 'enforce' },
};

export function facts(config: Record<string, unknown>): ImageFacts {
  return imageFacts(config);
}

export const rootImage = facts({ config: { Env: ['PATH=/usr/bin'] } });
export const namedUserImage = facts({ config: { User: 'app' } });
export const cleanImage = facts({ config: { User: '1000:1000', Env: ['PATH=/usr/bin'] } });
// A made-up key of the AWS shape, not a real credential.
export const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzzzEXAMPLE'.replace('EXAMPLE', 'q7Vx');
export const secretImage = facts({ config: { User: '1000', Env: [`AWS_SECRET_ACCESS_KEY=${SECRET}`] } });

export const DIGEST = `sha256:${'a'.repeat(64)}`;

export function context(overrides: Partial<EvaluationContext> = {}): EvaluationContext {
  return {
    upstream: 'docker.io',
    repository: 'library/app',
    tag: '1.0',
    user: undefined,
    address: '192.0.2.10',
    digest: DIGEST,
    now: new Date('2026-06-01T12:00:00Z'),
    ...overrides,
  };
}
