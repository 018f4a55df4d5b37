import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import {
  makeTempDir,
  removeTree,
  runOk,
  spawnDaemon,
  stopDaemon,
  stopPid,
  trackPid,
  waitFor,
} from './proc.js';

// A private dockerd (Debian docker.io 20.10) with the sandbox flags from CLIENTS.md: vfs storage and no
// networking setup (no iptables, no bridge). data-root, exec-root, pidfile, socket, daemon.json and the
// client's DOCKER_CONFIG all live in one temp dir. dockerd starts its own containerd in a separate
// process group; stop() stops both and undoes dockerd's bind mount of its data-root.

export interface DockerdOptions {
  /** e.g. http://127.0.0.1:41234 — used by dockerd for docker.io pulls only. */
  registryMirror?: string;
  /** host:port entries allowed over plain HTTP, e.g. ['127.0.0.1:41234']. */
  insecureRegistries: readonly string[];
}

export interface DockerPullResult {
  /** From the `Digest: sha256:...` line `docker pull` prints. */
  digest: string;
  /** `docker image inspect` RepoDigests; the CLI shortens docker.io names (`app@sha256:...`). */
  repoDigests: string[];
  imageId: string;
  stdout: string;
  elapsedMs: number;
}

export interface DockerdEnv {
  dir: string;
  socket: string;
  startupMs: number;
  /** dockerd and the containerd it started (undefined if its pidfile was not found). */
  pids(): { dockerd: number; containerd: number | undefined };
  pull(ref: string): Promise<DockerPullResult>;
  login(host: string, user: string, password: string): Promise<void>;
  docker(args: readonly string[]): Promise<string>;
  stop(): Promise<void>;
}

// The docker CLI in /usr/local/bin (28.x) is newer than the daemon; prefer the one packaged with it.
const DOCKER_CLI = existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';

function ping(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath: socket, path: '/_ping', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.end();
  });
}

async function readPid(path: string): Promise<number | undefined> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const pid = Number.parseInt(text.trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

export async function startDockerd(opts: DockerdOptions): Promise<DockerdEnv> {
  const dir = await makeTempDir('dockerd');
  const socket = join(dir, 'docker.sock');
  const clientConfig = join(dir, 'client');
  await mkdir(clientConfig);
  await writeFile(join(clientConfig, 'config.json'), '{"auths":{}}', { mode: 0o600 });
  // An empty daemon.json so a host /etc/docker/daemon.json cannot change the daemon under test.
  await writeFile(join(dir, 'daemon.json'), '{}');
  const args = [
    `--config-file=${join(dir, 'daemon.json')}`,
    `--data-root=${join(dir, 'data')}`,
    `--exec-root=${join(dir, 'exec')}`,
    `--pidfile=${join(dir, 'docker.pid')}`,
    `--host=unix://${socket}`,
    '--storage-driver=vfs',
    '--iptables=false',
    '--ip6tables=false',
    '--bridge=none',
    '--ip-masq=false',
    ...(opts.registryMirror ? [`--registry-mirror=${opts.registryMirror}`] : []),
    ...opts.insecureRegistries.map((r) => `--insecure-registry=${r}`),
  ];
  const containerdPidFile = join(dir, 'exec', 'containerd', 'containerd.pid');
  const started = performance.now();
  const daemon = spawnDaemon('dockerd', args, join(dir, 'dockerd.log'));
  let containerdPid: number | undefined;

  const stop = async (): Promise<void> => {
    containerdPid ??= await readPid(containerdPidFile);
    await stopDaemon(daemon, 20_000);
    // dockerd normally stops its containerd on the way out; if dockerd was killed it cannot.
    if (containerdPid !== undefined) await stopPid(containerdPid);
    await removeTree(dir);
  };

  try {
    await waitFor(
      'dockerd to answer /_ping',
      async () => {
        if (!daemon.isRunning()) throw new Error(`dockerd exited early; see ${join(dir, 'dockerd.log')}`);
        return ping(socket);
      },
      60_000,
    );
    containerdPid = await readPid(containerdPidFile);
    if (containerdPid !== undefined) trackPid(containerdPid);
  } catch (err) {
    await stop();
    throw err;
  }
  const startupMs = performance.now() - started;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DOCKER_CONFIG: clientConfig,
    DOCKER_HOST: `unix://${socket}`,
  };
  const docker = async (cmdArgs: readonly string[], input?: string): Promise<string> =>
    (await runOk(DOCKER_CLI, cmdArgs, { env, input, timeoutMs: 120_000 })).stdout;

  return {
    dir,
    socket,
    startupMs,
    pids: () => ({ dockerd: daemon.pid, containerd: containerdPid }),
    docker: (cmdArgs) => docker(cmdArgs),
    async pull(ref) {
      const result = await runOk(DOCKER_CLI, ['pull', ref], { env, timeoutMs: 120_000 });
      const digest = /^Digest: (sha256:[0-9a-f]{64})$/m.exec(result.stdout)?.[1];
      if (digest === undefined)
        throw new Error(`docker pull ${ref} printed no Digest line: ${result.stdout}`);
      const inspect: unknown = JSON.parse(await docker(['image', 'inspect', ref]));
      const first: unknown = Array.isArray(inspect) ? inspect[0] : undefined;
      const { Id, RepoDigests } = (first ?? {}) as { Id?: unknown; RepoDigests?: unknown };
      return {
        digest,
        repoDigests: Array.isArray(RepoDigests) ? RepoDigests.filter((d) => typeof d === 'string') : [],
        imageId: typeof Id === 'string' ? Id : '',
        stdout: result.stdout,
        elapsedMs: result.elapsedMs,
      };
    },
    async login(host, user, password) {
      await docker(['login', '--username', user, '--password-stdin', host], password);
    },
    stop,
  };
}
