import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEvaluate } from '../../../src/cli/evaluate.js';
import type { CliIo } from '../../../src/cli/io.js';
import { PLANTED_AWS_SECRET, pushImage, pushOciIndex, testImages } from '../../helpers/images.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';

let registry: Registry;
let tokenRegistry: Registry;

beforeAll(async () => {
  registry = await startRegistry();
  tokenRegistry = await startRegistry({ auth: 'token' });
  const layout = await testImages();
  for (const r of [registry, tokenRegistry]) {
    await pushImage(layout.dir, 'root', r, 'library/app', 'root');
    await pushImage(layout.dir, 'nonroot', r, 'library/app', 'nonroot');
  }
  await pushImage(layout.dir, 'secretenv', registry, 'library/app', 'secretenv');
  await pushOciIndex(layout.dir, registry, 'library/app', 'multi');
});
afterAll(async () => {
  await registry?.stop();
  await tokenRegistry?.stop();
});

async function evaluateImage(ref: string, flags: string[] = ['--insecure']) {
  const out = { stdout: '', stderr: '' };
  const io: CliIo = {
    stdout: (t) => {
      out.stdout += t;
    },
    stderr: (t) => {
      out.stderr += t;
    },
    readStdin: async () => '',
    env: {},
  };
  const code = await runEvaluate([ref, ...flags], io);
  return { code, ...out };
}

// `pullgate evaluate IMAGE` fetches the image's config(s) from a registry and judges them like the proxy does.
describe('pullgate evaluate IMAGE', () => {
  it('denies a root image and a secret image, allows a non-root image and index', async () => {
    const root = await evaluateImage(`${registry.host}/library/app:root`);
    expect(root.code).toBe(1);
    expect(JSON.parse(root.stdout)).toMatchObject({ decision: 'deny', findings: [{ rule: 'run-as-root' }] });
    const secret = await evaluateImage(`${registry.host}/library/app:secretenv`);
    expect(secret.code).toBe(1);
    expect(secret.stdout).toContain('"key":"AWS_SECRET_ACCESS_KEY"');
    expect(secret.stdout).not.toContain(PLANTED_AWS_SECRET);
    expect((await evaluateImage(`${registry.host}/library/app:nonroot`)).code).toBe(0);
    const multi = await evaluateImage(`${registry.host}/library/app:multi`);
    expect(multi.code).toBe(0);
    expect(JSON.parse(multi.stdout)).toMatchObject({ decision: 'allow' });
  });

  it('pulls anonymously through a Bearer token registry', async () => {
    const root = await evaluateImage(`${tokenRegistry.host}/library/app:root`);
    expect(root.code).toBe(1);
    expect((await evaluateImage(`${tokenRegistry.host}/library/app:nonroot`)).code).toBe(0);
  });

  it('a reference that cannot be fetched or parsed is bad input: exit 2', async () => {
    const missing = await evaluateImage(`${registry.host}/library/app:missing`);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^pullgate evaluate: cannot fetch /);
    expect((await evaluateImage('UPPER/Case:tag')).code).toBe(2);
  });

  it('suggests --insecure when a plain-HTTP registry was asked over HTTPS', async () => {
    const res = await evaluateImage(`${registry.host}/library/app:nonroot`, []);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(`if ${registry.host} serves plain HTTP, add --insecure`);
  });
});
