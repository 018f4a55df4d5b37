import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runEvaluate } from '../../../src/cli/evaluate.js';
import type { CliIo } from '../../../src/cli/io.js';
import { pushImage } from '../../helpers/images.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';
import { baseAnnotations, buildVariants } from '../../helpers/rule-images.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';

// Issue 13 item 5: `pullgate evaluate IMAGE` judges require-digest (by the reference given), image-age (each
// config's created) and stale-base (each declared base, asked of its registry) like the proxy.
let registry: Registry;
let work: TempDir;
let app: string;
let oldBase: string;
let newBase: string;

beforeAll(async () => {
  work = await makeTempDir('cli-pull-rules');
  let baseLayout: string;
  [registry, baseLayout] = await Promise.all([
    startRegistry(),
    buildVariants(`${work.path}/base`, { one: ['--config.label', 'b=1'], two: ['--config.label', 'b=2'] }),
  ]);
  oldBase = await pushImage(baseLayout, 'one', registry, 'library/base', '1');
  const apps = await buildVariants(`${work.path}/app`, {
    app: [
      '--created',
      '2020-01-01T00:00:00Z',
      ...baseAnnotations(`${registry.host}/library/base:1`, oldBase),
    ],
  });
  app = await pushImage(apps, 'app', registry, 'library/app', '1');
  newBase = await pushImage(baseLayout, 'two', registry, 'library/base', '1');
  await writeFile(
    join(work.path, 'rules.yaml'),
    stringify({
      apiVersion: 'pullgate/v1',
      kind: 'Policy',
      name: 'pull-rules',
      rules: {
        'require-digest': { mode: 'enforce' },
        'image-age': { mode: 'enforce', maxAgeDays: 365, unknown: 'allow' },
        'stale-base': { mode: 'audit' },
      },
    }),
  );
});
afterAll(async () => {
  await registry?.stop();
  await work?.cleanup();
});

async function evaluate(args: string[], stdin = '') {
  const out = { stdout: '', stderr: '' };
  const io: CliIo = {
    stdout: (t) => {
      out.stdout += t;
    },
    stderr: (t) => {
      out.stderr += t;
    },
    readStdin: async () => stdin,
    env: {},
  };
  const code = await runEvaluate([...args, '--policy', work.path], io);
  return {
    code,
    json: JSON.parse(out.stdout || '{}') as {
      decision: string;
      findings: { rule: string; message: string; mode: string }[];
    },
  };
}

describe('pullgate evaluate with require-digest, image-age and stale-base', () => {
  it('an image by tag gets all three findings, each naming what to do', async () => {
    const { code, json } = await evaluate([`${registry.host}/library/app:1`, '--insecure']);
    expect(code).toBe(1);
    expect(json.decision).toBe('deny');
    expect(json.findings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          rule: 'require-digest',
          mode: 'enforce',
          message: `require-digest: pull ${registry.host}/library/app@${app} instead of :1`,
        }),
        expect.objectContaining({
          rule: 'image-age',
          mode: 'enforce',
          message: expect.stringMatching(/built 2020-01-01/),
        }),
        expect.objectContaining({
          rule: 'stale-base',
          mode: 'audit',
          message: `stale-base: built on ${registry.host}/library/base:1@${oldBase}; that tag now points to ${newBase} (as the upstream answers now)`,
        }),
      ]),
    );
  });

  it('the same image by digest has no require-digest finding', async () => {
    const { json } = await evaluate([`${registry.host}/library/app@${app}`, '--insecure']);
    expect(json.findings.map((f) => f.rule).sort()).toEqual(['image-age', 'stale-base']);
  });

  it('--config judges image-age from created, and --tag makes it a pull by tag', async () => {
    const config = JSON.stringify({ created: '2019-05-05T00:00:00Z', config: { User: '1000' } });
    const plain = await evaluate(['--config', '-'], config);
    expect(plain.json.findings.map((f) => f.rule)).toEqual(['image-age']);
    const tagged = await evaluate(['--config', '-', '--repository', 'library/app', '--tag', '1'], config);
    expect(tagged.json.findings.map((f) => f.rule)).toEqual(['image-age', 'require-digest']);
  });
});
