import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MEDIA_TYPE, pushImage, type SeededImages, seedRegistry } from '../../helpers/images.js';
import { type Postgres, startPostgres } from '../../helpers/postgres.js';
import { run } from '../../helpers/proc.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';

// The database setup the README gives: the owner role runs `pullgate store migrate` ahead of the rollout, and the
// replicas run with a role that may only read and write rows (SELECT, INSERT, UPDATE, DELETE on the tables, USAGE on
// the sequences): it starts, pulls, raises an alert, records a review and lists decisions, and cannot change the
// schema.
const token = 'least-privilege-token';
const REPO = 'library/app';
let upstream: Registry;
let seeded: SeededImages;
let postgres: Postgres;
let pullgate: Pullgate | undefined;
let ownerUrl: string;
let appUrl: string;

async function sqlAs(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  upstream = await startRegistry();
  seeded = await seedRegistry(upstream);
  postgres = await startPostgres();
  // Trust authentication in the test server: the roles need no password.
  await sqlAs(postgres.url, 'create role pullgate_owner login');
  await sqlAs(postgres.url, 'create role pullgate_app login');
  await sqlAs(postgres.url, 'create database pullgate_lp owner pullgate_owner');
  ownerUrl = `postgres://pullgate_owner@127.0.0.1:${postgres.port}/pullgate_lp`;
  appUrl = `postgres://pullgate_app@127.0.0.1:${postgres.port}/pullgate_lp`;
}, 120_000);

afterAll(async () => {
  await pullgate?.stop();
  await postgres?.stop();
  await upstream?.stop();
});

async function pull(tag: string): Promise<Response> {
  const res = await fetch(`${pullgate?.url}/v2/${REPO}/manifests/${tag}`, {
    headers: { accept: `${MEDIA_TYPE.ociManifest}, ${MEDIA_TYPE.dockerManifest}` },
  });
  await res.arrayBuffer();
  return res;
}

async function admin(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${pullgate?.url}/admin/${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers },
  });
}

describe('replicas on a role with row privileges only', () => {
  it('serve, alert, review and list decisions once the owner has migrated', async () => {
    const migrated = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'store', 'migrate'], {
      env: { ...process.env, PULLGATE_DATABASE_URL: ownerUrl },
      allowFailure: true,
      timeoutMs: 60_000,
    });
    expect(migrated.stderr).toBe('');
    expect(migrated.code).toBe(0);
    await sqlAs(
      ownerUrl,
      `grant select, insert, update, delete on all tables in schema public to pullgate_app;
       grant usage on all sequences in schema public to pullgate_app`,
    );

    pullgate = await startPullgate({
      env: {
        PULLGATE_UPSTREAM: upstream.url,
        PULLGATE_DATABASE_URL: appUrl,
        PULLGATE_ADMIN_TOKEN: token,
        PULLGATE_TAG_TTL: '0',
        PULLGATE_REPLICA_ID: 'lp',
      },
    });
    await pushImage(seeded.layout.dir, 'nonroot', upstream, REPO, '3.3.1');
    expect((await pull('3.3.1')).status).toBe(200);
    await pushImage(seeded.layout.dir, 'nonroot-arm64', upstream, REPO, '3.3.1');
    expect((await pull('3.3.1')).status).toBe(200);

    const { alerts } = (await (await admin('alerts?tag=3.3.1')).json()) as { alerts: { id: number }[] };
    expect(alerts).toHaveLength(1);
    const approve = await admin(`alerts/${alerts[0]?.id}/approve`, {
      method: 'POST',
      body: JSON.stringify({ reason: 'expected rebuild' }),
    });
    expect(approve.status).toBe(200);
    const listed = await admin('decisions?repository=library/app');
    expect(listed.status).toBe(200);
    const { records } = (await listed.json()) as { records: { reference: string }[] };
    expect(records.filter((r) => r.reference === '3.3.1')).toHaveLength(2);

    await expect(sqlAs(appUrl, 'create table intruder (id int)')).rejects.toThrow(/permission denied/);
  }, 120_000);
});
