import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SeededImages, seedRegistry } from '../../helpers/images.js';
import { type Postgres, startPostgres } from '../../helpers/postgres.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';

// Issue 10, path 4: with PostgreSQL stopped, /readyz said 200 "store": true and every pull was a bare 500.
let upstream: Registry;
let seeded: SeededImages;
let postgres: Postgres;
let pullgate: Pullgate;

beforeAll(async () => {
  upstream = await startRegistry();
  seeded = await seedRegistry(upstream);
  postgres = await startPostgres();
  const databaseUrl = await postgres.createDatabase();
  pullgate = await startPullgate({
    env: { PULLGATE_UPSTREAM: upstream.url, PULLGATE_DATABASE_URL: databaseUrl, PULLGATE_TAG_TTL: '0' },
  });
});
afterAll(async () => {
  await pullgate?.stop();
  await postgres?.stop();
  await upstream?.stop();
});

interface Readiness {
  status: string;
  checks: Record<string, boolean>;
  notReady?: string[];
  reasons?: Record<string, string>;
}

describe('the store going down', () => {
  it('is a 503 naming the store on /readyz and on a pull by tag, and recovers by itself', async () => {
    // A tag seen within the last second is answered from memory when unchanged (one store write a second per
    // tag); the pull during the outage names a tag not seen yet, so the store must be read.
    const pull = (tag = 'nonroot') => fetch(`${pullgate.url}/v2/app/manifests/${tag}`);
    const before = await pull();
    await before.arrayBuffer();
    expect(before.status).toBe(200);

    await postgres.pause();
    try {
      const ready = await fetch(`${pullgate.url}/readyz`);
      const body = (await ready.json()) as Readiness;
      expect(ready.status).toBe(503);
      expect(body.checks.store).toBe(false);
      expect(body.notReady).toContain('store');
      expect(body.reasons?.store).toContain(`127.0.0.1:${postgres.port}`);

      const during = await pull('v2s2');
      const error = (await during.json()) as { errors: { code: string; message: string }[] };
      expect(during.status).toBe(503);
      expect(error.errors[0]?.code).toBe('UNAVAILABLE');
      expect(error.errors[0]?.message).toContain('store');
      expect(error.errors[0]?.message).toContain(`127.0.0.1:${postgres.port}`);
    } finally {
      await postgres.resume();
    }

    await expect
      .poll(async () => (await fetch(`${pullgate.url}/readyz`)).status, { timeout: 20_000, interval: 250 })
      .toBe(200);
    await expect
      .poll(
        async () => {
          const res = await pull('v2s2');
          await res.arrayBuffer();
          return res.status;
        },
        { timeout: 20_000, interval: 250 },
      )
      .toBe(200);
    expect(seeded.digests.nonroot).toMatch(/^sha256:/);
  });
});
