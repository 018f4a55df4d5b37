import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../src/policy/evaluate.js';
import { imageFacts } from '../../src/policy/facts.js';
import { loadPolicies } from '../../src/policy/loader/load.js';
import { run } from '../helpers/proc.js';

// pullgate's own image must pass pullgate's own rules. No image can be built here (no network for the base), so
// the runtime stage's USER and ENV are read from the Dockerfile, together with the ENV the pinned node base image
// is known to set, and judged by the shipped policies.
const dockerfile = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');
const lines = dockerfile.replace(/\\\n\s*/g, ' ').split('\n');
const stages = lines.reduce<string[][]>((acc, line) => {
  if (/^FROM\s/i.test(line)) acc.push([]);
  acc.at(-1)?.push(line);
  return acc;
}, []);
const runtime = stages.at(-1) ?? [];
const baseImageEnv = [
  'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  'NODE_VERSION=20.19.5',
  'YARN_VERSION=1.22.22',
];

function runtimeConfig() {
  const env = [...baseImageEnv];
  let user: string | undefined;
  for (const line of runtime) {
    const envMatch = /^ENV\s+(.*)$/i.exec(line);
    if (envMatch?.[1] !== undefined) for (const pair of envMatch[1].trim().split(/\s+/)) env.push(pair);
    const userMatch = /^USER\s+(\S+)/i.exec(line);
    if (userMatch?.[1] !== undefined) user = userMatch[1];
  }
  return { architecture: 'amd64', os: 'linux', config: { User: user, Env: env }, history: [] };
}

describe('the Dockerfile', () => {
  it('pins its base image by tag and sha256 digest', () => {
    const arg = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1] ?? '';
    expect(arg).toMatch(/^node:[\w.-]+@sha256:[a-f0-9]{64}$/);
    expect(stages.every((stage) => /^FROM \$\{NODE_IMAGE\}/.test(stage[0] ?? ''))).toBe(true);
  });

  it('runs as a numeric non-root user and passes the shipped policies', async () => {
    const config = runtimeConfig();
    expect(config.config.User).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    const set = await loadPolicies(new URL('../../policies', import.meta.url).pathname);
    const decision = evaluate(set, imageFacts(config), {
      upstream: 'docker.io',
      repository: 'pullgate/pullgate',
      tag: '0.1.0',
      digest: `sha256:${'0'.repeat(64)}`,
      address: '127.0.0.1',
      now: new Date(),
    });
    expect(decision.findings).toEqual([]);
    expect(decision.decision).toBe('allow');
  });

  it('health-checks the port PULLGATE_LISTEN names', async () => {
    const cmd = /^HEALTHCHECK .* CMD (\[.*\])$/m.exec(dockerfile)?.[1];
    const [exe, ...args] = JSON.parse(cmd ?? '[]') as string[];
    expect(exe).toBe('node');
    const server = createServer((req, res) => {
      res.writeHead(req.url === '/healthz' ? 200 : 404);
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const check = (listen: string) =>
        run(process.execPath, args, { env: { PULLGATE_LISTEN: listen }, allowFailure: true });
      expect((await check(`0.0.0.0:${port}`)).code).toBe(0);
      expect((await check(`127.0.0.1:${port}`)).code).toBe(0);
      server.close();
      await new Promise((r) => server.once('close', r));
      expect((await check(`0.0.0.0:${port}`)).code).toBe(1);
    } finally {
      server.close();
    }
  });
});
