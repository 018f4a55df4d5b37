import { describe, expect, it } from 'vitest';
import type { ImageDescription, PlatformDescription } from '../../../src/tags/description.js';
import { diffImages } from '../../../src/tags/diff.js';

function p(platform: string, over: Partial<PlatformDescription> = {}): PlatformDescription {
  return {
    platform,
    digest: `sha256:${platform}`,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    user: 'app',
    entrypoint: ['/entry'],
    cmd: ['serve'],
    exposedPorts: ['80/tcp'],
    labels: { maintainer: 'a' },
    env: { PATH: 'h1', TOKEN: 'h2' },
    layers: ['sha256:l1', 'sha256:l2'],
    created: '2024-01-01T00:00:00Z',
    annotations: { 'org.opencontainers.image.base.name': 'debian:12' },
    ...over,
  };
}

function img(kind: ImageDescription['kind'], platforms: PlatformDescription[]): ImageDescription {
  return { digest: `sha256:${kind}-${platforms.length}`, mediaType: 'x', kind, platforms };
}

describe('diffImages', () => {
  it('reports each kind of change per platform, env by name only', () => {
    const a = img('index', [p('linux/amd64'), p('linux/arm64')]);
    const b = img('index', [
      p('linux/amd64', {
        user: '',
        entrypoint: ['/bin/sh'],
        exposedPorts: ['80/tcp', '22/tcp'],
        labels: { maintainer: 'b', extra: 'x' },
        env: { PATH: 'h1', TOKEN: 'h9', AWS_SECRET_ACCESS_KEY: 'h3' },
        layers: ['sha256:l1', 'sha256:l3'],
        created: '2024-02-01T00:00:00Z',
        annotations: { 'org.opencontainers.image.base.name': 'debian:13' },
      }),
      p('linux/s390x'),
    ]);
    const diff = diffImages(a, b);
    expect(diff.platformsAdded).toEqual(['linux/s390x']);
    expect(diff.platformsRemoved).toEqual(['linux/arm64']);
    expect(diff.platforms).toHaveLength(1);
    expect(diff.platforms[0]).toMatchObject({
      platform: 'linux/amd64',
      user: { from: 'app', to: '' },
      entrypoint: { from: ['/entry'], to: ['/bin/sh'] },
      exposedPorts: { added: ['22/tcp'], removed: [] },
      labels: { added: { extra: 'x' }, removed: [], changed: { maintainer: { from: 'a', to: 'b' } } },
      env: { added: ['AWS_SECRET_ACCESS_KEY'], removed: [], changed: ['TOKEN'] },
      layers: { added: ['sha256:l3'], removed: ['sha256:l2'] },
      created: { from: '2024-01-01T00:00:00Z', to: '2024-02-01T00:00:00Z' },
      baseImage: { 'org.opencontainers.image.base.name': { from: 'debian:12', to: 'debian:13' } },
    });
    expect(diff.platforms[0]?.cmd).toBeUndefined();
    // Hashes of env values never reach the diff.
    expect(JSON.stringify(diff)).not.toMatch(/h9|h3|h2/);
  });

  it('finds nothing to report between identical images', () => {
    const diff = diffImages(img('manifest', [p('linux/amd64')]), img('manifest', [p('linux/amd64')]));
    expect(diff.platforms).toEqual([
      { platform: 'linux/amd64', oldDigest: 'sha256:linux/amd64', newDigest: 'sha256:linux/amd64' },
    ]);
    expect(diff.kindChanged).toBeUndefined();
  });

  it('records a change of kind and compares two single images even when their platform strings differ', () => {
    const diff = diffImages(
      img('manifest', [p('linux/arm64/v8')]),
      img('index', [p('linux/arm64', { user: '0' })]),
    );
    expect(diff.kindChanged).toEqual({ from: 'manifest', to: 'index' });
    expect(diff.platforms[0]?.user).toEqual({ from: 'app', to: '0' });
  });
});
