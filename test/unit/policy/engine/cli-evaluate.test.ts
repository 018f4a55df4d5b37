import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runEvaluate } from '../../../../src/cli/evaluate.js';
import type { CliIo } from '../../../../src/cli/io.js';
import { makeTempDir } from '../../../helpers/tmp.js';
import { policy, SECRET } from './fixtures.js';

const repoRoot = join(import.meta.dirname, '../../../..');

function io(stdin: string, env: NodeJS.ProcessEnv = {}) {
  const out = { stdout: '', stderr: '' };
  const cli: CliIo = {
    stdout: (t) => {
      out.stdout += t;
    },
    stderr: (t) => {
      out.stderr += t;
    },
    readStdin: async () => stdin,
    env,
  };
  return { cli, out };
}

async function evaluate(config: unknown, args: string[] = []) {
  const { cli, out } = io(typeof config === 'string' ? config : JSON.stringify(config));
  const code = await runEvaluate(['--config', '-', ...args], cli);
  return { code, ...out };
}

// `pullgate evaluate --config -` prints one JSON decision; exit 0 allow/warn, 1 deny, 2 bad input.
describe('pullgate evaluate --config', () => {
  it('allows a non-root image without secrets: exit 0', async () => {
    const r = await evaluate({
      config: { User: '1000', Env: ['PATH=/bin', 'GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D'] },
    });
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ decision: 'allow', findings: [] });
  });

  it('denies a root image with a secret: exit 1, findings name the key, never the value', async () => {
    const r = await evaluate({ config: { Env: [`AWS_SECRET_ACCESS_KEY=${SECRET}`] } });
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as {
      decision: string;
      findings: { rule: string; key?: string; message: string }[];
    };
    expect(out.decision).toBe('deny');
    expect(out.findings.map((f) => [f.rule, f.key])).toEqual([
      ['run-as-root', undefined],
      ['secret-env', 'AWS_SECRET_ACCESS_KEY'],
    ]);
    expect(r.stdout).not.toContain(SECRET);
  });

  it('warns under an audit policy: exit 0', async () => {
    const dir = await makeTempDir('cli-eval');
    try {
      await writeFile(
        join(dir.path, 'audit.yaml'),
        stringify(policy('audit', { rules: { 'run-as-root': { mode: 'audit' } } })),
      );
      const r = await evaluate({ config: {} }, ['--policy', dir.path]);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({
        decision: 'warn',
        findings: [{ rule: 'run-as-root', mode: 'audit' }],
      });
    } finally {
      await dir.cleanup();
    }
  });

  it('bad input: exit 2 with a message on stderr and nothing on stdout', async () => {
    for (const input of ['{not json', '[1,2]', '"text"']) {
      const r = await evaluate(input);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^pullgate evaluate: /);
    }
    const none = io('');
    expect(await runEvaluate([], none.cli)).toBe(2);
    expect(none.out.stderr).toContain('give either --config');
    const missing = io('');
    expect(await runEvaluate(['--config', '/nonexistent/config.json'], missing.cli)).toBe(2);
    expect(missing.out.stderr).toContain('cannot read /nonexistent/config.json: ENOENT');
    const unknown = io('');
    expect(await runEvaluate(['--config', '-', '--bogus'], unknown.cli)).toBe(2);
  });

  it('runs as a process, reading stdin, with the shipped policies by default', () => {
    const script =
      "import('./src/cli/evaluate.ts').then(async (m) => { process.exitCode = await m.runEvaluate(process.argv.slice(1)); })";
    const run = (input: string) =>
      spawnSync(process.execPath, ['--import', 'tsx', '-e', script, '--', '--config', '-'], {
        cwd: repoRoot,
        input,
        encoding: 'utf8',
        env: { ...process.env, PULLGATE_POLICY_DIR: '' },
      });
    const deny = run(JSON.stringify({ config: { User: 'root' } }));
    expect(deny.status).toBe(1);
    expect(JSON.parse(deny.stdout)).toMatchObject({ decision: 'deny', findings: [{ rule: 'run-as-root' }] });
    expect(run(JSON.stringify({ config: { User: '1000' } })).status).toBe(0);
    expect(run('nope').status).toBe(2);
  });
});
