import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir, removeTree, runOk } from './proc.js';

// podman (4.3) as a pull client, fully private: registries.conf, storage.conf (vfs), containers.conf
// (tmp_dir, so the shared /run/libpod is not touched) and auth file all live in one temp dir. podman
// has no daemon; stop() only removes the dir. `podman run` does not work in this sandbox; pulls do.

export interface PodmanEnvOptions {
  /** host:port of the registry podman must pull from. */
  registryHost: string;
  /**
   * mirror: `prefix` resolves to registry-1.docker.io with `registryHost` as a mirror tried first —
   * how people configure a pull-through cache. rewrite: `prefix` is served only by `registryHost`
   * (`location=`), the setup that enforces a policy proxy. See containers-registries.conf(5).
   */
  mode: 'mirror' | 'rewrite';
  /** Defaults to docker.io. */
  prefix?: string;
}

export interface PodmanPullResult {
  imageId: string;
  /** The manifest digest podman recorded for the pulled image. */
  digest: string;
  repoDigests: string[];
  stderr: string;
  elapsedMs: number;
}

export interface PodmanEnv {
  dir: string;
  pull(ref: string): Promise<PodmanPullResult>;
  login(host: string, user: string, password: string): Promise<void>;
  /** Runs any podman subcommand in this environment. */
  podman(args: readonly string[]): Promise<string>;
  stop(): Promise<void>;
}

function registriesConf(opts: PodmanEnvOptions): string {
  const prefix = opts.prefix ?? 'docker.io';
  const head = [
    'unqualified-search-registries = []',
    '',
    '[[registry]]',
    `prefix = ${JSON.stringify(prefix)}`,
  ];
  if (opts.mode === 'rewrite') {
    return [...head, `location = ${JSON.stringify(opts.registryHost)}`, 'insecure = true', ''].join('\n');
  }
  const upstream = prefix === 'docker.io' ? 'registry-1.docker.io' : prefix;
  return [
    ...head,
    `location = ${JSON.stringify(upstream)}`,
    '',
    '[[registry.mirror]]',
    `location = ${JSON.stringify(opts.registryHost)}`,
    'insecure = true',
    '',
  ].join('\n');
}

export async function startPodmanEnv(opts: PodmanEnvOptions): Promise<PodmanEnv> {
  const dir = await makeTempDir('podman');
  const q = (p: string): string => JSON.stringify(join(dir, p));
  await writeFile(join(dir, 'registries.conf'), registriesConf(opts));
  await writeFile(
    join(dir, 'storage.conf'),
    `[storage]\ndriver = "vfs"\nrunroot = ${q('run')}\ngraphroot = ${q('graph')}\n`,
  );
  await writeFile(
    join(dir, 'containers.conf'),
    `[engine]\ntmp_dir = ${q('tmp')}\nevents_logger = "none"\n\n[network]\nnetwork_config_dir = ${q('networks')}\n`,
  );
  // podman refuses to start if REGISTRY_AUTH_FILE names a missing file.
  await writeFile(join(dir, 'auth.json'), '{"auths":{}}', { mode: 0o600 });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CONTAINERS_CONF: join(dir, 'containers.conf'),
    CONTAINERS_REGISTRIES_CONF: join(dir, 'registries.conf'),
    CONTAINERS_STORAGE_CONF: join(dir, 'storage.conf'),
    REGISTRY_AUTH_FILE: join(dir, 'auth.json'),
  };
  const podman = async (args: readonly string[], input?: string): Promise<string> =>
    (await runOk('podman', args, { env, input, timeoutMs: 120_000 })).stdout;

  return {
    dir,
    podman: (args) => podman(args),
    async pull(ref) {
      const result = await runOk('podman', ['pull', ref], { env, timeoutMs: 120_000 });
      const imageId = result.stdout.trim().split('\n').pop() ?? '';
      const inspect: unknown = JSON.parse(await podman(['image', 'inspect', ref]));
      const first: unknown = Array.isArray(inspect) ? inspect[0] : undefined;
      const { Digest, RepoDigests } = (first ?? {}) as { Digest?: unknown; RepoDigests?: unknown };
      if (typeof Digest !== 'string') throw new Error(`podman image inspect ${ref} gave no Digest`);
      return {
        imageId,
        digest: Digest,
        repoDigests: Array.isArray(RepoDigests) ? RepoDigests.filter((d) => typeof d === 'string') : [],
        stderr: result.stderr,
        elapsedMs: result.elapsedMs,
      };
    },
    async login(host, user, password) {
      await podman(['login', '--tls-verify=false', '--username', user, '--password-stdin', host], password);
    },
    async stop() {
      await removeTree(dir);
    },
  };
}
