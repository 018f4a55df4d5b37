import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluate, evaluatePull } from '../../../../src/policy/evaluate.js';
import { loadPolicies, parsePolicyFiles } from '../../../../src/policy/loader/load.js';
import { cleanImage, context, DIGEST, rootImage, secretImage } from './fixtures.js';

const root = join(import.meta.dirname, '../../../../policies');

// The policies shipped in policies/ load, and every worked example in policies/examples/ is valid.
describe('shipped policies', () => {
  it('policies/ holds the default, enforcing all three image rules everywhere', async () => {
    const set = await loadPolicies(root);
    expect(set.policies.map((p) => p.name)).toEqual(['default']);
    expect(set.version).toMatch(/^[a-f0-9]{12}$/);
    const anywhere = context({ repository: 'someone/anything', upstream: 'ghcr.io', tag: undefined });
    expect(evaluate(set, rootImage, anywhere).decision).toBe('deny');
    expect(evaluate(set, secretImage, anywhere).decision).toBe('deny');
    expect(evaluate(set, cleanImage, anywhere).decision).toBe('allow');
    // require-digest, image-age and stale-base ship off.
    const byTag = { kind: 'tag' as const, name: 'x/y', tag: '1', served: DIGEST };
    expect(evaluatePull(set, { reference: byTag }, anywhere).decision).toBe('allow');
    expect(evaluate(set, { ...cleanImage, created: '2001-01-01T00:00:00Z' }, anywhere).decision).toBe(
      'allow',
    );
  });

  it('each example file is valid on its own and together with the default', async () => {
    const dir = join(root, 'examples');
    const names = (await readdir(dir)).filter((n) => /\.(ya?ml|json)$/.test(n));
    expect(names.length).toBeGreaterThanOrEqual(3);
    const files = await Promise.all(
      names.map(async (n) => ({ file: join(dir, n), text: await readFile(join(dir, n), 'utf8') })),
    );
    for (const f of files) expect(parsePolicyFiles([f]).policies).toHaveLength(1);
    const defaults = {
      file: join(root, 'default.yaml'),
      text: await readFile(join(root, 'default.yaml'), 'utf8'),
    };
    const all = parsePolicyFiles([defaults, ...files]);
    // The worked examples do what their comments say.
    const ciBase = context({ repository: 'library/python', tag: '3.12-slim', address: '10.20.3.4' });
    expect(evaluate(all, rootImage, ciBase).decision).toBe('warn');
    expect(evaluate(all, secretImage, ciBase).decision).toBe('deny');
    expect(evaluate(all, rootImage, { ...ciBase, address: '192.0.2.1' }).decision).toBe('deny');
    const postgres = context({ repository: 'library/postgres', now: new Date('2026-06-01T00:00:00Z') });
    expect(evaluate(all, rootImage, postgres).decision).toBe('allow');
    expect(
      evaluate(all, rootImage, { ...postgres, now: new Date('2027-07-01T00:00:00Z') }).exceptionsExpired,
    ).toHaveLength(1);
    const payments = context({ repository: 'acme/payments/api' });
    expect(evaluate(all, { ...cleanImage, user: 'app' }, payments).decision).toBe('deny');
    // production-pinning-and-freshness.yaml: pulls from the production network by tag are refused, old images
    // refused, 1970 builds warned; elsewhere the rules stay off.
    const production = context({ repository: 'library/nginx', tag: '1.25.3', address: '10.40.1.7' });
    const byTag = { kind: 'tag' as const, name: 'library/nginx', tag: '1.25.3', served: DIGEST };
    expect(evaluatePull(all, { reference: byTag }, production).decision).toBe('deny');
    expect(evaluatePull(all, { reference: byTag }, { ...production, address: '192.0.2.1' }).decision).toBe(
      'allow',
    );
    const old = { ...cleanImage, created: '2024-01-01T00:00:00Z' };
    expect(evaluate(all, old, production).decision).toBe('deny');
    expect(evaluate(all, { ...cleanImage, created: '1970-01-01T00:00:00Z' }, production).decision).toBe(
      'warn',
    );
    expect(evaluate(all, old, { ...production, address: '192.0.2.1' }).decision).toBe('allow');
  });
});
