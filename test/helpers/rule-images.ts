import { mkdir } from 'node:fs/promises';
import { testImages } from './images.js';
import { run } from './proc.js';

/**
 * The nonroot test image changed by `umoci config` arguments, one layout tag per variant, in one OCI layout under
 * `dir` (returned): `{ old: ['--created', '2020-01-01T00:00:00Z'] }` gives tag `old`. Variants share the image's
 * layers, so pushing several costs one layer upload.
 */
export async function buildVariants(
  dir: string,
  variants: Record<string, readonly string[]>,
): Promise<string> {
  const layout = await testImages();
  const own = `${dir}/oci`;
  await mkdir(dir, { recursive: true });
  await run('skopeo', ['copy', '--quiet', `oci:${layout.dir}:nonroot`, `oci:${own}:nonroot`]);
  for (const [tag, args] of Object.entries(variants)) {
    await run('umoci', ['config', '--image', `${own}:nonroot`, '--tag', tag, ...args]);
  }
  return own;
}

export const BASE_NAME_KEY = 'org.opencontainers.image.base.name';
export const BASE_DIGEST_KEY = 'org.opencontainers.image.base.digest';

/** `umoci config` arguments for the OCI base annotations BuildKit writes on an image manifest. */
export function baseAnnotations(name: string, digest: string): string[] {
  return [
    '--manifest.annotation',
    `${BASE_NAME_KEY}=${name}`,
    '--manifest.annotation',
    `${BASE_DIGEST_KEY}=${digest}`,
  ];
}

/** An RFC 3339 time `days` days before now. */
export function daysAgo(days: number): string {
  return new Date(Date.now() - days * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
