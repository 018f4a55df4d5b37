import { beforeAll, describe, expect, it } from 'vitest';
import { runAlerts, runTags } from '../../../src/cli/alerts.js';
import { runDecisions } from '../../../src/cli/decisions.js';
import type { CliIo } from '../../../src/cli/io.js';
import { run } from '../../helpers/proc.js';
import { useSeededPullgate } from '../../helpers/seeded-pullgate.js';

// The reviewers' commands as a new operator first meets them: beside a server started with PULLGATE_LISTEN.
const token = 'first-hour-token';
const setup = useSeededPullgate({ PULLGATE_ADMIN_TOKEN: token });

function capture(env: NodeJS.ProcessEnv) {
  const out = { stdout: '', stderr: '' };
  const io: CliIo = {
    stdout: (t) => {
      out.stdout += t;
    },
    stderr: (t) => {
      out.stderr += t;
    },
    readStdin: async () => '',
    env,
  };
  return { io, out };
}

async function decisions(argv: string[], env: NodeJS.ProcessEnv) {
  const { io, out } = capture(env);
  return { code: await runDecisions(argv, io), ...out };
}

async function alerts(argv: string[], env: NodeJS.ProcessEnv) {
  let stdout = '';
  let stderr = '';
  const io = { out: (t: string) => (stdout += t), err: (t: string) => (stderr += t), env };
  return { code: await runAlerts(argv, io), stdout, stderr };
}

beforeAll(async () => {
  // A refused image pulled as dockerd and containerd do: HEAD by tag, then GET.
  const url = `${setup.pullgate.url}/v2/library/app/manifests/root`;
  await (await fetch(url, { method: 'HEAD' })).arrayBuffer();
  await (await fetch(url)).arrayBuffer();
});

describe('admin commands find the server and explain a missing token', () => {
  it('reach the server at PULLGATE_LISTEN when neither --server nor PULLGATE_SERVER is given', async () => {
    const env = { PULLGATE_ADMIN_TOKEN: token, PULLGATE_LISTEN: `0.0.0.0:${setup.pullgate.port}` };
    expect((await decisions(['--json'], env)).code).toBe(0);
    expect((await alerts(['list'], env)).stdout).toContain('no alerts');
  });

  it('prefer PULLGATE_SERVER over PULLGATE_LISTEN', async () => {
    const env = {
      PULLGATE_ADMIN_TOKEN: token,
      PULLGATE_SERVER: setup.pullgate.url,
      PULLGATE_LISTEN: '127.0.0.1:1',
    };
    expect((await alerts(['list'], env)).code).toBe(0);
  });

  it('say that no token (PULLGATE_TOKEN, PULLGATE_ADMIN_TOKEN) is set when the server answers UNAUTHORIZED', async () => {
    const res = await alerts(['list', '--server', setup.pullgate.url], {});
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('UNAUTHORIZED');
    expect(res.stderr).toContain('neither PULLGATE_TOKEN nor PULLGATE_ADMIN_TOKEN is set');
  });

  it('document PULLGATE_SERVER and PULLGATE_LISTEN in every admin command help', async () => {
    const helps = [
      (await alerts(['--help'], {})).stdout,
      (await decisions(['--help'], {})).stdout,
      await (async () => {
        let out = '';
        await runTags(['--help'], { out: (t) => (out += t), err: () => undefined, env: {} });
        return out;
      })(),
    ];
    for (const help of helps) {
      expect(help).toContain('PULLGATE_SERVER');
      expect(help).toContain('PULLGATE_LISTEN');
      expect(help).toContain('PULLGATE_ADMIN_TOKEN');
    }
  });
});

describe('pullgate decisions', () => {
  const env = () => ({ PULLGATE_ADMIN_TOKEN: token, PULLGATE_SERVER: setup.pullgate.url });

  it('exits 2 on a bad --decision, --since or --until without asking the server', async () => {
    for (const argv of [
      ['--decision', 'maybe'],
      ['--since', 'yesterday'],
      ['--until', '12/41/2026'],
    ]) {
      const res = await decisions(argv, { ...env(), PULLGATE_SERVER: 'http://127.0.0.1:1' });
      expect(res.code).toBe(2);
      expect(res.stderr).toMatch(/--(?:decision|since|until) must be/);
    }
  });

  it('says when no decision matches, rather than printing nothing', async () => {
    const res = await decisions(['--repository', 'library/no-such-repository'], env());
    expect(res.code).toBe(0);
    expect(res.stdout).toBe('no decisions match\n');
  });

  it('shows what the client got: the refused HEAD answered with headers, the GET refused', async () => {
    const res = await decisions(['--repository', 'library/app'], env());
    expect(res.code).toBe(0);
    const lines = res.stdout.trim().split('\n');
    const head = lines.find((l) => l.includes(' HEAD '));
    const get = lines.find((l) => l.includes(' GET '));
    expect(head).toMatch(/deny\s+HEAD headers 200 \(refusal comes on the GET\)\s+library\/app:root/);
    expect(get).toMatch(/deny\s+GET refused 403\s+library\/app:root/);
  });
});

describe('the CLI entry point', () => {
  const cli = (...args: string[]) =>
    run(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { allowFailure: true });

  it('answers --help for log, policy and tags with their own usage', async () => {
    for (const [args, usage] of [
      [['log', '--help'], 'pullgate log verify'],
      [['policy', '--help'], 'pullgate policy check'],
      [['tags', '--help'], 'pullgate alerts history'],
    ] as const) {
      const res = await cli(...args);
      expect(res.code).toBe(0);
      expect(res.stdout).toContain(usage);
    }
  });
});
