import { describe, expect, it } from 'vitest';
import { useSeededPullgate } from '../../helpers/seeded-pullgate.js';

// A client's mistake is a 4xx with an OCI error body, decided before anything goes upstream.
const setup = useSeededPullgate();

async function errorOf(path: string, init?: RequestInit) {
  const res = await fetch(`${setup.pullgate.url}${path}`, init);
  const body = (await res.json()) as { errors: { code: string; message: string }[] };
  return { status: res.status, code: body.errors[0]?.code, message: body.errors[0]?.message };
}

const absent = `sha256:${'0'.repeat(64)}`;

describe('client mistakes', () => {
  it('refuses malformed digests with 400 DIGEST_INVALID without asking the upstream', async () => {
    const before = (await setup.upstream.accessLog()).length;
    for (const digest of [
      'sha256:totallywrong',
      'sha256:ABC',
      `md5:${'a'.repeat(32)}`,
      `sha256:${'a'.repeat(63)}`,
    ]) {
      expect(await errorOf(`/v2/library/app/manifests/${digest}`)).toMatchObject({
        status: 400,
        code: 'DIGEST_INVALID',
      });
      expect(await errorOf(`/v2/library/app/blobs/${digest}`)).toMatchObject({
        status: 400,
        code: 'DIGEST_INVALID',
      });
    }
    await new Promise((r) => setTimeout(r, 100));
    expect((await setup.upstream.accessLog()).length).toBe(before);
  });

  it('refuses bad repository names with 400 NAME_INVALID', async () => {
    for (const name of ['Upper/case', 'a//b', '-lead', 'trail-', 'a__-b']) {
      expect(await errorOf(`/v2/${name}/manifests/latest`)).toMatchObject({
        status: 400,
        code: 'NAME_INVALID',
      });
    }
    expect(await errorOf(`/v2/${'a'.repeat(256)}/manifests/latest`)).toMatchObject({
      status: 400,
      code: 'NAME_INVALID',
    });
  });

  it('answers exactly 404 for absent manifests, blobs and impossible tags', async () => {
    expect(await errorOf('/v2/library/app/manifests/no-such-tag')).toMatchObject({
      status: 404,
      code: 'MANIFEST_UNKNOWN',
    });
    expect(await errorOf(`/v2/library/app/manifests/${absent}`)).toMatchObject({
      status: 404,
      code: 'MANIFEST_UNKNOWN',
    });
    expect(await errorOf(`/v2/library/app/blobs/${absent}`)).toMatchObject({
      status: 404,
      code: 'BLOB_UNKNOWN',
    });
    expect(await errorOf('/v2/library/app/manifests/.INVALID_MANIFEST_NAME')).toMatchObject({
      status: 404,
      code: 'MANIFEST_UNKNOWN',
    });
    expect(await errorOf('/v2/library/nothing-here/manifests/latest')).toMatchObject({ status: 404 });
  });

  it('refuses every write with 405 UNSUPPORTED', async () => {
    const cases: [string, string][] = [
      ['PUT', '/v2/library/app/manifests/latest'],
      ['DELETE', `/v2/library/app/manifests/${absent}`],
      ['POST', '/v2/library/app/blobs/uploads/'],
      ['PATCH', '/v2/library/app/blobs/uploads/some-id'],
      ['PUT', '/v2/library/app/blobs/uploads/some-id?digest=sha256:x'],
      ['DELETE', `/v2/library/app/blobs/${absent}`],
    ];
    for (const [method, path] of cases) {
      expect(await errorOf(path, { method, body: method === 'DELETE' ? undefined : '{}' })).toMatchObject({
        status: 405,
        code: 'UNSUPPORTED',
      });
    }
  });

  it('answers unknown endpoints with an OCI error body, not a bare 404', async () => {
    expect(await errorOf('/v2/library/app/nonsense')).toMatchObject({ status: 404, code: 'NAME_UNKNOWN' });
  });
});
