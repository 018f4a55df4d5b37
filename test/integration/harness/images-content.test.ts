import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ARGLEAK_CREATED_BY,
  type ImageLayout,
  type LayoutTag,
  PLANTED_AWS_SECRET,
  PLANTED_AWS_SECRET_KEY,
  PLANTED_NPM_TOKEN,
  testImages,
} from '../../helpers/images.js';

interface ImageConfig {
  architecture: string;
  os: string;
  config: { User?: string; Env?: string[] };
  history?: { created_by?: string }[];
}

async function blob(layout: ImageLayout, digest: string): Promise<string> {
  return readFile(join(layout.dir, 'blobs', 'sha256', digest.slice('sha256:'.length)), 'utf8');
}

async function configOf(layout: ImageLayout, tag: LayoutTag): Promise<ImageConfig> {
  const manifest = JSON.parse(await blob(layout, layout.digests[tag])) as { config: { digest: string } };
  return JSON.parse(await blob(layout, manifest.config.digest)) as ImageConfig;
}

// The built images carry exactly the facts the policy tests rely on.
describe('testImages', () => {
  it('builds each tag with the user, env, history and platform its name promises', async () => {
    const layout = await testImages();
    expect((await configOf(layout, 'root')).config.User ?? '').toBe('');
    expect((await configOf(layout, 'nonroot')).config.User).toBe('1000:1000');

    const secretenv = await configOf(layout, 'secretenv');
    expect(secretenv.config.User).toBe('1000:1000');
    expect(secretenv.config.Env).toContain(`${PLANTED_AWS_SECRET_KEY}=${PLANTED_AWS_SECRET}`);
    expect(PLANTED_AWS_SECRET).toMatch(/^[A-Za-z0-9/+]{40}$/);

    const argleak = await configOf(layout, 'argleak');
    expect(argleak.history?.map((h) => h.created_by)).toContain(ARGLEAK_CREATED_BY);
    expect(PLANTED_NPM_TOKEN).toMatch(/^npm_[A-Za-z0-9]{36}$/);

    const arm = await configOf(layout, 'nonroot-arm64');
    expect([arm.os, arm.architecture]).toEqual(['linux', 'arm64']);
    expect((await configOf(layout, 'nonroot')).architecture).toBe('amd64');
  });

  it('is built once per process', async () => {
    expect(await testImages()).toBe(await testImages());
  });
});
