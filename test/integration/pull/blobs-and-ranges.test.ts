import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { fetchManifest } from '../../helpers/images.js';
import { useSeededPullgate } from '../../helpers/seeded-pullgate.js';

// Blobs stream through with their digest, and Range requests answer 206 cold (from the fill) and warm (disk).
const setup = useSeededPullgate();
let layer: { digest: string; size: number };

beforeAll(async () => {
  const manifest = JSON.parse(
    (await fetchManifest(setup.upstream, setup.seeded.repo, 'nonroot')).body.toString(),
  ) as {
    layers: { digest: string; size: number }[];
  };
  const first = manifest.layers[0];
  if (first === undefined) throw new Error('seed image has no layer');
  layer = first;
});

const sha256 = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('blobs through pullgate', () => {
  it('serves a range before the blob is cached, then the whole blob, then a range from the cache', async () => {
    const cold = await fetch(`${setup.pullgate.url}/v2/app/blobs/${layer.digest}`, {
      headers: { range: 'bytes=10-99' },
    });
    expect(cold.status).toBe(206);
    expect(cold.headers.get('content-range')).toBe(`bytes 10-99/${layer.size}`);
    const coldPart = Buffer.from(await cold.arrayBuffer());
    expect(coldPart.length).toBe(90);

    const whole = await fetch(`${setup.pullgate.url}/v2/app/blobs/${layer.digest}`);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('docker-content-digest')).toBe(layer.digest);
    expect(whole.headers.get('content-length')).toBe(String(layer.size));
    const bytes = Buffer.from(await whole.arrayBuffer());
    expect(sha256(bytes)).toBe(layer.digest);
    expect(coldPart.equals(bytes.subarray(10, 100))).toBe(true);

    const warm = await fetch(`${setup.pullgate.url}/v2/app/blobs/${layer.digest}`, {
      headers: { range: 'bytes=-16' },
    });
    expect(warm.status).toBe(206);
    expect(Buffer.from(await warm.arrayBuffer()).equals(bytes.subarray(bytes.length - 16))).toBe(true);
  });

  it('answers HEAD with the size and digest and no body', async () => {
    const res = await fetch(`${setup.pullgate.url}/v2/app/blobs/${layer.digest}`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe(String(layer.size));
    expect(res.headers.get('docker-content-digest')).toBe(layer.digest);
  });

  it('answers 416 for a range past the end', async () => {
    const res = await fetch(`${setup.pullgate.url}/v2/app/blobs/${layer.digest}`, {
      headers: { range: `bytes=${layer.size + 10}-` },
    });
    expect(res.status).toBe(416);
    expect(res.headers.get('content-range')).toBe(`bytes */${layer.size}`);
  });
});
