import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MEDIA_TYPE, type SeededImages, seedRegistry } from '../../helpers/images.js';
import { ociErrorCode, ociErrorProblem } from '../../helpers/oci-error-body.js';
import { getFreePort } from '../../helpers/ports.js';
import { type Postgres, startPostgres } from '../../helpers/postgres.js';
import { waitUntil } from '../../helpers/proc.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';
import { startTcpGate, type TcpGate } from '../../helpers/tcp-gate.js';

// Issue 10, path 4: the store going down is not hidden. The real PostgreSQL sits behind a TCP gate the test can
// cut and restore. While it is down /readyz is 503 naming the store, and pulls that need the store are 503
// UNAVAILABLE naming it (never a bare 500, never a pinned tag served unpinned); recovery is automatic; a start-up
// against an unreachable or missing database says which host or database and why.
let upstream: Registry;
let seeded: SeededImages;
let postgres: Postgres;
let gate: TcpGate;
let database: string;
let pullgate: Pullgate;

beforeAll(async () => {
  upstream = await startRegistry();
  seeded = await seedRegistry(upstream);
  postgres = await startPostgres();
  const direct = await postgres.createDatabase();
  database = new URL(direct).pathname.slice(1);
  gate = await startTcpGate(postgres.port);
  pullgate = await startPullgate({
    env: {
      PULLGATE_UPSTREAM: upstream.url,
      PULLGATE_DATABASE_URL: `postgres://postgres@127.0.0.1:${gate.port}/${database}`,
      PULLGATE_TAG_TTL: '0',
    },
  });
});
afterAll(async () => {
  await pullgate?.stop();
  await gate?.stop();
  await postgres?.stop();
  await upstream?.stop();
});

async function pullTag(tag: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${pullgate.url}/v2/library/app/manifests/${tag}`, {
    headers: { accept: MEDIA_TYPE.ociManifest },
  });
  return { status: res.status, body: await res.text() };
}

describe('the store going down', () => {
  it('is reported by /readyz as 503 with the store not ready', async () => {
    expect((await pullTag('nonroot')).status).toBe(200);
    await gate.cut();
    const res = await fetch(`${pullgate.url}/readyz`);
    const body = (await res.json()) as { checks?: Record<string, boolean> };
    expect(res.status, JSON.stringify(body)).toBe(503);
    expect(body.checks?.store, JSON.stringify(body)).toBe(false);
  });

  it('answers a pull by tag with 503 UNAVAILABLE naming the store', async () => {
    // A tag not pulled before: its observation cannot come from the one-second repeat window, only the store.
    const answer = await pullTag('big');
    expect(answer.status, answer.body).toBe(503);
    expect(ociErrorProblem(answer.body)).toBeUndefined();
    expect(ociErrorCode(answer.body)).toBe('UNAVAILABLE');
    expect(answer.body.toLowerCase()).toMatch(/store|database|postgres/);
  });

  it('recovers by itself once the store is back', async () => {
    await gate.restore();
    await waitUntil(async () => (await pullTag('nonroot')).status === 200, {
      timeoutMs: 30_000,
      intervalMs: 250,
    });
    await waitUntil(async () => (await fetch(`${pullgate.url}/readyz`)).status === 200, {
      timeoutMs: 30_000,
    });
    expect((await pullTag(seeded.digests.nonroot)).status).toBe(200);
  });
});

describe('a start-up against a store it cannot use', () => {
  it('names the unreachable host and port', async () => {
    const closed = await getFreePort();
    const attempt = startPullgate({
      env: {
        PULLGATE_UPSTREAM: upstream.url,
        PULLGATE_DATABASE_URL: `postgres://postgres@127.0.0.1:${closed}/pg`,
      },
    });
    await expect(attempt).rejects.toThrow(`127.0.0.1:${closed}`);
  });

  it('names the missing database and says it does not exist', async () => {
    const attempt = startPullgate({
      env: {
        PULLGATE_UPSTREAM: upstream.url,
        PULLGATE_DATABASE_URL: `postgres://postgres@127.0.0.1:${postgres.port}/no_such_db`,
      },
    });
    await expect(attempt).rejects.toThrow(/no_such_db.*does not exist|does not exist.*no_such_db/);
  });
});
