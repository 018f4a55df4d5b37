import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SeededImages, seedRegistry } from '../../helpers/images.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';

// The default upstream answers docker.io (no ns, or ns=docker.io) with library/ for one-part names; other
// registries are reached by containerd's ?ns= or a path prefix; an unknown ns is a clear 404.
let hub: Registry;
let ghcr: Registry;
let hubImages: SeededImages;
let ghcrImages: SeededImages;
let pullgate: Pullgate;

beforeAll(async () => {
  [hub, ghcr] = await Promise.all([startRegistry(), startRegistry()]);
  hubImages = await seedRegistry(hub);
  ghcrImages = await seedRegistry(ghcr, { repo: 'acme/tools' });
  pullgate = await startPullgate({
    env: { PULLGATE_UPSTREAM: hub.url, PULLGATE_UPSTREAMS: `ghcr.io=${ghcr.url}` },
  });
});
afterAll(async () => {
  await pullgate?.stop();
  await hub?.stop();
  await ghcr?.stop();
});

async function digestAt(
  path: string,
): Promise<{ status: number; digest: string | null; code?: string; message?: string }> {
  const res = await fetch(`${pullgate.url}${path}`);
  if (res.status !== 200) {
    const body = (await res.json()) as { errors: { code: string; message: string }[] };
    return { status: res.status, digest: null, code: body.errors[0]?.code, message: body.errors[0]?.message };
  }
  await res.arrayBuffer();
  return { status: res.status, digest: res.headers.get('docker-content-digest') };
}

describe('upstream routing', () => {
  it('sends one-part names to the default upstream under library/', async () => {
    const expected = hubImages.digests.nonroot;
    expect(await digestAt('/v2/app/manifests/nonroot')).toMatchObject({ status: 200, digest: expected });
    expect(await digestAt('/v2/library/app/manifests/nonroot?ns=docker.io')).toMatchObject({
      status: 200,
      digest: expected,
    });
    expect(await digestAt('/v2/docker.io/library/app/manifests/nonroot')).toMatchObject({
      status: 200,
      digest: expected,
    });
  });

  it('reaches a configured registry by ns and by path prefix', async () => {
    const expected = ghcrImages.digests.v2s2;
    expect(await digestAt('/v2/acme/tools/manifests/v2s2?ns=ghcr.io')).toMatchObject({
      status: 200,
      digest: expected,
    });
    expect(await digestAt('/v2/ghcr.io/acme/tools/manifests/v2s2')).toMatchObject({
      status: 200,
      digest: expected,
    });
    expect(await digestAt('/v2/acme/tools/manifests/v2s2')).toMatchObject({ status: 404 });
  });

  it('answers 404 naming the registry for an ns with no configured upstream', async () => {
    const res = await digestAt('/v2/library/app/manifests/nonroot?ns=quay.io');
    expect(res).toMatchObject({ status: 404, code: 'NAME_UNKNOWN' });
    expect(res.message).toContain('quay.io');
  });
});
