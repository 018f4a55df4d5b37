import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listLogFiles } from '../../../src/audit/files.js';
import { verifyLogDir } from '../../../src/audit/index.js';
import { MEDIA_TYPE, type SeededImages, seedRegistry } from '../../helpers/images.js';
import { ociErrorCode, ociErrorProblem } from '../../helpers/oci-error-body.js';
import { run } from '../../helpers/proc.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';
import { mountTmpfs, type Tmpfs } from '../../helpers/tmpfs.js';

// The decision-log directory on a small tmpfs that the test fills to ENOSPC. A decision that cannot be recorded
// is not answered: pulls get 503 (never a 200 or a 403 that is not on the record); /readyz says the log is not
// ready; once space returns pulls are recorded and served again, and `pullgate log verify` passes.
let upstream: Registry;
let seeded: SeededImages;
let data: TempDir;
let logFs: Tmpfs;
let pullgate: Pullgate;
/** Request ids of every answer pullgate gave with a decision in it (200 or 403): each must be on the record. */
const answered: string[] = [];

beforeAll(async () => {
  upstream = await startRegistry();
  seeded = await seedRegistry(upstream);
  data = await makeTempDir('pullgate-disk-full-log');
  logFs = await mountTmpfs(join(data.path, 'audit'), 256 * 1024);
  pullgate = await startPullgate({
    env: { PULLGATE_UPSTREAM: upstream.url, PULLGATE_TAG_TTL: '0' },
    dataDir: data.path,
  });
});
afterAll(async () => {
  await pullgate?.stop();
  await logFs?.unmount();
  await data?.cleanup();
  await upstream?.stop();
});

async function pull(
  reference: string,
  method: 'GET' | 'HEAD' = 'GET',
): Promise<{ status: number; body: string }> {
  const res = await fetch(`${pullgate.url}/v2/library/app/manifests/${reference}`, {
    method,
    headers: { accept: `${MEDIA_TYPE.ociManifest}, ${MEDIA_TYPE.ociIndex}` },
  });
  const body = await res.text();
  if (res.status === 200 || res.status === 403)
    answered.push(res.headers.get('x-request-id') ?? 'no request id');
  return { status: res.status, body };
}

async function recordedRequestIds(): Promise<Set<string>> {
  const dir = join(data.path, 'audit');
  const ids = new Set<string>();
  for (const file of await listLogFiles(dir)) {
    for (const line of (await readFile(join(dir, file.name), 'utf8')).split('\n')) {
      if (line === '') continue;
      const record = JSON.parse(line) as { requestId?: string };
      if (record.requestId !== undefined) ids.add(record.requestId);
    }
  }
  return ids;
}

describe('a full decision-log directory', () => {
  it('serves and records a pull while there is space (the baseline)', async () => {
    expect((await pull('nonroot')).status).toBe(200);
  });

  it('answers 503 with an OCI error once the log cannot be written, for allowed and refused images', async () => {
    await logFs.fill();
    // The log file's last page may still take a record or two; after that, every write fails.
    let first503: number | undefined;
    for (let i = 0; i < 50 && first503 === undefined; i++) {
      if ((await pull('nonroot')).status === 503) first503 = i;
    }
    expect(first503, 'no pull was refused while the log directory was full').toBeDefined();
    for (const [reference, method] of [
      ['nonroot', 'GET'],
      [seeded.digests.nonroot, 'GET'],
      ['nonroot', 'HEAD'],
      ['secretenv', 'GET'],
      ['root', 'HEAD'],
    ] as const) {
      const answer = await pull(reference, method);
      expect(answer.status, `${method} ${reference}: ${answer.body}`).toBe(503);
      if (method === 'GET') {
        expect(ociErrorProblem(answer.body)).toBeUndefined();
        expect(ociErrorCode(answer.body)).toBe('UNAVAILABLE');
      }
    }
  });

  it('says in /readyz that the decision log is not ready', async () => {
    const res = await fetch(`${pullgate.url}/readyz`);
    const body = (await res.json()) as { checks?: Record<string, boolean> };
    expect(res.status, JSON.stringify(body)).toBe(503);
    const logChecks = Object.entries(body.checks ?? {}).filter(([name]) => /log|audit|decision/i.test(name));
    expect(logChecks, JSON.stringify(body)).not.toEqual([]);
    expect(
      logChecks.every(([, ok]) => !ok),
      JSON.stringify(body),
    ).toBe(true);
  });

  it('serves and records pulls again once space returns', async () => {
    await logFs.free();
    expect((await pull('nonroot')).status).toBe(200);
    expect((await pull('secretenv')).status).toBe(403);
    expect((await pull(seeded.digests.nonroot, 'HEAD')).status).toBe(200);
  });

  it('has every answered decision on the record, and the log verifies', async () => {
    await pullgate.stop();
    const recorded = await recordedRequestIds();
    expect(answered.length).toBeGreaterThanOrEqual(4);
    for (const id of answered) expect(recorded.has(id), `answer ${id} is not on the record`).toBe(true);
    expect(await verifyLogDir(join(data.path, 'audit'))).toMatchObject({ ok: true });
    const cli = await run(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', 'log', 'verify', '--data-dir', data.path],
      {
        allowFailure: true,
      },
    );
    expect(cli.code, cli.stdout + cli.stderr).toBe(0);
  });
});
