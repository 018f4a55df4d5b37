import { access, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir, removeTree, runOk, spawnDaemon, stopDaemon, waitFor } from './proc.js';

// A private containerd (1.6) daemon driven with `ctr`. Everything (root, state, sockets, log) lives in
// one temp dir, and the CRI plugin is disabled: it would otherwise want /etc/cni and /var/lib/... .

export interface HostsTomlOptions {
  /** Base URL of the registry that serves `registryName`, e.g. http://127.0.0.1:41234. */
  url: string;
  capabilities?: readonly ('pull' | 'resolve' | 'push')[];
  skipVerify?: boolean;
}

/**
 * Writes `<hostsDir>/<registryName>/hosts.toml`. containerd 1.6.20 needs the `[host."..."]` section:
 * a file with only `server = ...` fails to parse and ctr silently falls back to the real registry
 * (CLIENTS.md). `registryName` is the name in the image reference, e.g. `docker.io`.
 */
export async function writeHostsToml(
  hostsDir: string,
  registryName: string,
  opts: HostsTomlOptions,
): Promise<string> {
  const dir = join(hostsDir, registryName);
  await mkdir(dir, { recursive: true });
  const caps = opts.capabilities ?? ['pull', 'resolve'];
  const lines = [
    `server = ${JSON.stringify(opts.url)}`,
    '',
    `[host.${JSON.stringify(opts.url)}]`,
    `  capabilities = ${JSON.stringify(caps)}`,
  ];
  if (opts.skipVerify) lines.push('  skip_verify = true');
  const path = join(dir, 'hosts.toml');
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}

export interface CtrPullOptions {
  /** Directory holding `<registry>/hosts.toml` files (see writeHostsToml). */
  hostsDir?: string;
  /** ctr --plain-http, for references that name an http registry directly. */
  plainHttp?: boolean;
  timeoutMs?: number;
}

export interface CtrPullResult {
  /** The image target digest from `ctr images ls` — the manifest (or index) digest that was pulled. */
  digest: string;
  mediaType: string;
  stdout: string;
  elapsedMs: number;
}

export interface ContainerdEnv {
  dir: string;
  socket: string;
  pid: number;
  /** Milliseconds from spawn until the gRPC socket existed. */
  startupMs: number;
  /** A fresh, empty directory for hosts.toml files, private to this daemon. */
  hostsDir: string;
  /** `ref` must be fully qualified (ctr does not normalise), e.g. docker.io/library/app:v1. */
  pull(ref: string, opts?: CtrPullOptions): Promise<CtrPullResult>;
  ctr(args: readonly string[]): Promise<string>;
  stop(): Promise<void>;
}

export async function startContainerd(): Promise<ContainerdEnv> {
  const dir = await makeTempDir('containerd');
  const socket = join(dir, 'containerd.sock');
  const hostsDir = join(dir, 'certs.d');
  await mkdir(hostsDir);
  const q = (p: string): string => JSON.stringify(join(dir, p));
  await writeFile(
    join(dir, 'config.toml'),
    [
      'version = 2',
      `root = ${q('root')}`,
      `state = ${q('state')}`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]',
      `  address = ${JSON.stringify(socket)}`,
      '[ttrpc]',
      `  address = ${q('containerd.sock.ttrpc')}`,
      '[debug]',
      `  address = ${q('debug.sock')}`,
      '[metrics]',
      '  address = ""',
      '',
    ].join('\n'),
  );
  const started = performance.now();
  const daemon = spawnDaemon(
    'containerd',
    ['--config', join(dir, 'config.toml')],
    join(dir, 'containerd.log'),
  );
  try {
    // ctr blocks ~10 s on a socket that does not exist yet, so wait for the file first.
    await waitFor(
      'the containerd socket',
      async () => {
        if (!daemon.isRunning())
          throw new Error(`containerd exited early; see ${join(dir, 'containerd.log')}`);
        return access(socket).then(
          () => true,
          () => false,
        );
      },
      30_000,
    );
  } catch (err) {
    await stopDaemon(daemon);
    await removeTree(dir);
    throw err;
  }
  const startupMs = performance.now() - started;
  const ctr = async (args: readonly string[], timeoutMs = 120_000): Promise<string> =>
    (await runOk('ctr', ['-a', socket, ...args], { timeoutMs, label: `ctr ${args.slice(0, 2).join(' ')}` }))
      .stdout;

  return {
    dir,
    socket,
    pid: daemon.pid,
    startupMs,
    hostsDir,
    ctr: (args) => ctr(args),
    async pull(ref, opts = {}) {
      const args = ['images', 'pull'];
      if (opts.hostsDir) args.push('--hosts-dir', opts.hostsDir);
      if (opts.plainHttp) args.push('--plain-http');
      const result = await runOk('ctr', ['-a', socket, ...args, ref], {
        timeoutMs: opts.timeoutMs ?? 120_000,
      });
      // REF TYPE DIGEST SIZE PLATFORMS LABELS — SIZE has a space ("1.0 MiB"), so take columns by position.
      const line = (await ctr(['images', 'ls', `name==${ref}`]))
        .split('\n')
        .find((l) => l.startsWith(`${ref} `));
      const [, mediaType, digest] = line?.split(/\s+/) ?? [];
      if (mediaType === undefined || digest === undefined)
        throw new Error(`ctr images ls does not list ${ref}`);
      return { digest, mediaType, stdout: result.stdout, elapsedMs: result.elapsedMs };
    },
    async stop() {
      await stopDaemon(daemon);
      await removeTree(dir);
    },
  };
}
