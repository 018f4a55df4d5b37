import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DockerdEnv, startDockerd } from '../../helpers/clients/dockerd.js';
import { type PodmanEnv, startPodmanEnv } from '../../helpers/clients/podman.js';
import { skopeoCopy } from '../../helpers/clients/skopeo.js';
import { type SeededImages, seedRegistry } from '../../helpers/images.js';
import { run } from '../../helpers/proc.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';
import { failure } from '../refusal/refused-images.js';

// Issue 3 item 7, "who is pulling": with an htpasswd file pullgate answers `WWW-Authenticate: Basic`, so docker
// login and podman login work; anonymous pulls are still served. The authenticated name scopes policies (here a
// policy that only audits run-as-root for the CI user) and is kept with each decision.
const USER = 'ci-bot';
const PASSWORD = 'correct-horse-battery';
const CI_POLICY = `apiVersion: pullgate/v1
kind: Policy
name: ci-builds-on-root-bases
priority: 10
scope:
  clients:
    users: [${USER}]
rules:
  run-as-root: { mode: audit }
`;
const token = 'auth-test-admin-token';

let registry: Registry;
let seeded: SeededImages;
let dir: TempDir;
let pullgate: Pullgate;
let podman: PodmanEnv;
let dockerd: DockerdEnv;

beforeAll(async () => {
  registry = await startRegistry();
  seeded = await seedRegistry(registry);
  dir = await makeTempDir('auth');
  const htpasswd = (await run('htpasswd', ['-Bbn', USER, PASSWORD])).stdout;
  await writeFile(join(dir.path, 'htpasswd'), htpasswd);
  await mkdir(join(dir.path, 'policies'));
  await copyFile('policies/default.yaml', join(dir.path, 'policies', 'default.yaml'));
  await writeFile(join(dir.path, 'policies', 'ci.yaml'), CI_POLICY);
  pullgate = await startPullgate({
    env: {
      PULLGATE_UPSTREAM: registry.url,
      PULLGATE_HTPASSWD: join(dir.path, 'htpasswd'),
      PULLGATE_POLICY_DIR: join(dir.path, 'policies'),
      PULLGATE_ADMIN_TOKEN: token,
    },
  });
  podman = await startPodmanEnv({ registryHost: pullgate.host, mode: 'rewrite', prefix: 'docker.io' });
  dockerd = await startDockerd({ insecureRegistries: [pullgate.host] });
});
afterAll(async () => {
  await dockerd?.stop();
  await podman?.stop();
  await pullgate?.stop();
  await registry?.stop();
  await dir?.cleanup();
});

describe('client authentication', () => {
  it('challenges with Basic and refuses a wrong password', async () => {
    const ping = await fetch(`${pullgate.url}/v2/`);
    expect(ping.status).toBe(401);
    expect(ping.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    const wrong = await fetch(`${pullgate.url}/v2/library/app/manifests/nonroot`, {
      headers: { authorization: `Basic ${Buffer.from(`${USER}:nope`).toString('base64')}` },
    });
    expect(wrong.status).toBe(401);
    expect(JSON.stringify(await wrong.json())).not.toContain('nope');
  });

  it('serves anonymous pulls, under the policy for everyone', async () => {
    expect((await skopeoCopy(`${pullgate.host}/${seeded.repo}:nonroot`)).manifestDigest).toBe(
      seeded.digests.nonroot,
    );
    const refused = await failure(skopeoCopy(`${pullgate.host}/${seeded.repo}:root`), 'skopeo');
    expect(refused.stderr).toContain('denied: run-as-root');
  });

  it('lets skopeo, podman and docker log in, and scopes the policy by the name', async () => {
    const creds = { user: USER, password: PASSWORD };
    expect((await skopeoCopy(`${pullgate.host}/${seeded.repo}:root`, { creds })).manifestDigest).toBe(
      seeded.digests.root,
    );
    await podman.login(pullgate.host, USER, PASSWORD);
    expect((await podman.pull(`docker.io/${seeded.repo}:root`)).digest).toBe(seeded.digests.root);
    await dockerd.login(pullgate.host, USER, PASSWORD);
    const docker = await dockerd.pull(`${pullgate.host}/${seeded.repo}:root`);
    expect(docker.digest).toBe(seeded.digests.root);
  });

  it('keeps the name with each decision', async () => {
    const res = await fetch(`${pullgate.url}/admin/decisions?limit=200`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const page = (await res.json()) as {
      records: { reference: string; decision: string; method: string; client: { user?: string } }[];
    };
    const root = page.records.filter((r) => r.reference === 'root' && r.method === 'GET');
    expect(root.some((r) => r.client.user === USER && r.decision === 'warn')).toBe(true);
    expect(root.some((r) => r.client.user === undefined && r.decision === 'deny')).toBe(true);
  });
});
