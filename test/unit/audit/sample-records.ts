import { createHash } from 'node:crypto';
import type { DecisionInput } from '../../../src/audit/index.js';

/** A well-formed digest that differs for each `n`. */
export function digestN(n: number | string): string {
  return `sha256:${createHash('sha256').update(String(n)).digest('hex')}`;
}

export function decisionInput(overrides: Partial<DecisionInput> = {}): DecisionInput {
  return {
    type: 'decision',
    requestId: 'req-1',
    client: { address: '127.0.0.1', userAgent: 'docker/20.10.24' },
    method: 'HEAD',
    upstream: 'https://registry-1.docker.io',
    repository: 'library/nginx',
    reference: 'latest',
    digest: digestN('nginx'),
    decision: 'allow',
    decisionSource: 'fresh',
    findings: [],
    policy: { name: 'default', version: '2024-01-01.1' },
    tag: { event: 'unchanged' },
    source: 'upstream',
    durationMs: 3.5,
    ...overrides,
  };
}
