import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { copyFile, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { run } from './proc.js';
import { type Credentials, type RegistryTarget, registryFetch } from './registry.js';
import { processTempDir } from './tmp.js';

export const MEDIA_TYPE = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
} as const;

const MANIFEST_ACCEPT = [
  MEDIA_TYPE.ociManifest,
  MEDIA_TYPE.ociIndex,
  MEDIA_TYPE.dockerManifest,
  MEDIA_TYPE.dockerList,
].join(', ');

/** Planted in the `secretenv` image's Env; tests assert it never appears in any output. */
export const PLANTED_AWS_SECRET_KEY = 'AWS_SECRET_ACCESS_KEY';
export const PLANTED_AWS_SECRET = 'q8Vf3kZr7TnW1xHc9LpJ2mYs5Ud0BgEa6RiKo4Nt';
/** Planted in the `argleak` image's history as a build arg (`|1 NPM_TOKEN=... /bin/sh -c npm ci`). */
export const PLANTED_NPM_TOKEN_KEY = 'NPM_TOKEN';
export const PLANTED_NPM_TOKEN = 'npm_7hQx2LmP9vRk4TzW8cNy3BfJ6sDa1GeUo5Ki';
export const ARGLEAK_CREATED_BY = `|1 ${PLANTED_NPM_TOKEN_KEY}=${PLANTED_NPM_TOKEN} /bin/sh -c npm ci`;
/** Size of the random, incompressible file in the `big` image's top layer. */
export const BIG_LAYER_BYTES = 52 * 1024 * 1024;

export const LAYOUT_TAGS = [
  'root',
  'nonroot',
  'secretenv',
  'argleak',
  'nonroot-arm64',
  'big',
  'multi',
] as const;
export type LayoutTag = (typeof LAYOUT_TAGS)[number];

export interface ImageLayout {
  /** The OCI image layout directory. */
  dir: string;
  /** `oci:DIR:TAG`, a skopeo source reference. */
  ref(tag: LayoutTag): string;
  /** Digest of the tag's manifest (or, for `multi`, index) in the layout. */
  digests: Record<LayoutTag, string>;
}

export function sha256Digest(bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

let bigFile: Promise<string> | undefined;

/** The random file for the `big` layer, made once per test process. */
export function bigLayerFile(): Promise<string> {
  bigFile ??= (async () => {
    const path = join(processTempDir(), 'big.bin');
    const out = createWriteStream(path);
    const chunk = 1024 * 1024;
    for (let written = 0; written < BIG_LAYER_BYTES; written += chunk) {
      if (!out.write(randomBytes(chunk))) await new Promise<void>((r) => out.once('drain', () => r()));
    }
    out.end();
    await finished(out);
    return path;
  })();
  return bigFile;
}

async function umoci(cwd: string, args: string[]): Promise<void> {
  await run('umoci', args, { cwd });
}

interface LayoutIndexEntry {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

const REF_NAME = 'org.opencontainers.image.ref.name';

async function readLayoutIndex(
  dir: string,
): Promise<{ schemaVersion: number; manifests: LayoutIndexEntry[] }> {
  return JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as {
    schemaVersion: number;
    manifests: LayoutIndexEntry[];
  };
}

function entryFor(entries: LayoutIndexEntry[], tag: string): LayoutIndexEntry {
  const e = entries.find((m) => m.annotations?.[REF_NAME] === tag);
  if (e === undefined) throw new Error(`tag ${tag} not in the image layout`);
  return e;
}

/**
 * umoci has no command for an index, so write one (OCI image-spec image-index.md) over layout tags, each with its
 * platform, and tag it `tag` in the layout's index.json.
 */
export async function addIndex(
  layout: string,
  tag: string,
  children: readonly { tag: string; architecture: string }[],
): Promise<string> {
  const index = await readLayoutIndex(layout);
  const body = JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.ociIndex,
    manifests: children.map((c) => {
      const e = entryFor(index.manifests, c.tag);
      return {
        mediaType: e.mediaType,
        digest: e.digest,
        size: e.size,
        platform: { architecture: c.architecture, os: 'linux' },
      };
    }),
  });
  const digest = sha256Digest(body);
  await writeFile(join(layout, 'blobs', 'sha256', digest.slice('sha256:'.length)), body);
  index.manifests.push({
    mediaType: MEDIA_TYPE.ociIndex,
    digest,
    size: Buffer.byteLength(body),
    annotations: { [REF_NAME]: tag },
  });
  await writeFile(join(layout, 'index.json'), JSON.stringify(index));
  return digest;
}

async function addMultiIndex(layout: string): Promise<void> {
  await addIndex(layout, 'multi', [
    { tag: 'nonroot', architecture: 'amd64' },
    { tag: 'nonroot-arm64', architecture: 'arm64' },
  ]);
}

/** Builds the standard test images into `${dir}/oci` with umoci (no Docker); about half a second. */
export async function buildImages(dir: string): Promise<ImageLayout> {
  const rootfs = join(dir, 'rootfs');
  await mkdir(join(rootfs, 'bin'), { recursive: true });
  await mkdir(join(rootfs, 'etc'), { recursive: true });
  await mkdir(join(rootfs, 'home', 'app'), { recursive: true });
  await copyFile('/bin/busybox', join(rootfs, 'bin', 'busybox'));
  for (const applet of ['sh', 'ls', 'cat', 'id', 'env'])
    await symlink('busybox', join(rootfs, 'bin', applet));
  await writeFile(
    join(rootfs, 'etc', 'passwd'),
    'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n',
  );
  await writeFile(join(rootfs, 'etc', 'group'), 'root:x:0:\napp:x:1000:\nnogroup:x:65534:\n');
  await writeFile(join(dir, 'f.txt'), 'package-lock contents\n');
  const big = await bigLayerFile();

  await umoci(dir, ['init', '--layout', 'oci']);
  await umoci(dir, ['new', '--image', 'oci:base']);
  await umoci(dir, [
    'insert',
    '--image',
    'oci:base',
    '--history.created_by',
    'COPY rootfs /',
    'rootfs/',
    '/',
  ]);
  await umoci(dir, [
    'config',
    '--image',
    'oci:base',
    '--config.cmd',
    '/bin/sh',
    '--config.env',
    'PATH=/bin',
    '--os',
    'linux',
    '--architecture',
    'amd64',
  ]);
  await umoci(dir, ['tag', '--image', 'oci:base', 'root']);
  await umoci(dir, ['config', '--image', 'oci:base', '--tag', 'nonroot', '--config.user', '1000:1000']);
  await umoci(dir, [
    'config',
    '--image',
    'oci:nonroot',
    '--tag',
    'secretenv',
    '--config.env',
    `${PLANTED_AWS_SECRET_KEY}=${PLANTED_AWS_SECRET}`,
  ]);
  await umoci(dir, [
    'insert',
    '--image',
    'oci:nonroot',
    '--tag',
    'argleak',
    '--history.created_by',
    ARGLEAK_CREATED_BY,
    'f.txt',
    '/f.txt',
  ]);
  await umoci(dir, [
    'config',
    '--image',
    'oci:nonroot',
    '--tag',
    'nonroot-arm64',
    '--architecture',
    'arm64',
    '--no-history',
  ]);
  await umoci(dir, [
    'insert',
    '--image',
    'oci:nonroot',
    '--tag',
    'big',
    '--history.created_by',
    'COPY big.bin /big.bin',
    big,
    '/big.bin',
  ]);
  const layout = join(dir, 'oci');
  await addMultiIndex(layout);
  const index = await readLayoutIndex(layout);
  const digests = Object.fromEntries(
    LAYOUT_TAGS.map((t) => [t, entryFor(index.manifests, t).digest]),
  ) as Record<LayoutTag, string>;
  return { dir: layout, ref: (tag) => `oci:${layout}:${tag}`, digests };
}

let cachedLayout: Promise<ImageLayout> | undefined;

/** The standard images, built once per test process and shared by every test file in it. */
export function testImages(): Promise<ImageLayout> {
  cachedLayout ??= (async () => {
    const dir = join(processTempDir(), `images-${randomUUID()}`);
    await mkdir(dir, { recursive: true });
    return buildImages(dir);
  })();
  // A failed build must not poison every later caller in the process.
  cachedLayout.catch(() => {
    cachedLayout = undefined;
  });
  return cachedLayout;
}

/**
 * The nonroot test image changed by `umoci config` arguments (a label, a user, a variable), as tag `changed` in an
 * OCI layout of its own under `dir`: a second digest for a tag to move to.
 */
export async function buildChangedImage(dir: string, config: readonly string[]): Promise<string> {
  const layout = await testImages();
  const own = `${dir}/oci`;
  await run('skopeo', ['copy', '--quiet', `oci:${layout.dir}:nonroot`, `oci:${own}:nonroot`]);
  await run('umoci', ['config', '--image', `${own}:nonroot`, '--tag', 'changed', ...config]);
  return own;
}

function credsArg(c: Credentials): string {
  return `${c.username}:${c.password}`;
}

export interface PushOptions {
  /** `v2s2` converts to Docker schema 2 (a Docker manifest list for an index). Default: keep OCI. */
  format?: 'oci' | 'v2s2';
}

/** `skopeo copy` of one layout tag to `registry/repo:destTag`; returns the pushed manifest digest. */
export async function pushImage(
  layoutDir: string,
  tag: string,
  registry: RegistryTarget,
  repo: string,
  destTag: string,
  opts: PushOptions = {},
): Promise<string> {
  const digestFile = join(processTempDir(), `digest-${randomUUID()}`);
  const args = ['copy', '--quiet', '--all', '--dest-tls-verify=false', '--digestfile', digestFile];
  if (opts.format === 'v2s2') args.push('--format', 'v2s2');
  if (registry.credentials !== undefined) args.push('--dest-creds', credsArg(registry.credentials));
  args.push(`oci:${layoutDir}:${tag}`, `docker://${registry.host}/${repo}:${destTag}`);
  try {
    await run('skopeo', args);
    return (await readFile(digestFile, 'utf8')).trim();
  } finally {
    await rm(digestFile, { force: true });
  }
}

export interface FetchedManifest {
  digest: string;
  contentType: string;
  body: Buffer;
}

export async function fetchManifest(
  registry: RegistryTarget,
  repo: string,
  reference: string,
): Promise<FetchedManifest> {
  const res = await registryFetch(registry, `/v2/${repo}/manifests/${reference}`, {
    headers: { accept: MANIFEST_ACCEPT },
  });
  const body = Buffer.from(await res.arrayBuffer());
  if (res.status !== 200) throw new Error(`GET manifest ${repo}:${reference} answered ${res.status}`);
  return {
    digest: res.headers.get('docker-content-digest') ?? sha256Digest(body),
    contentType: res.headers.get('content-type') ?? '',
    body,
  };
}

/** The digest the registry reports for a reference (HEAD), or undefined when it answers 404. */
export async function headManifestDigest(
  registry: RegistryTarget,
  repo: string,
  reference: string,
): Promise<string | undefined> {
  const res = await registryFetch(registry, `/v2/${repo}/manifests/${reference}`, {
    method: 'HEAD',
    headers: { accept: MANIFEST_ACCEPT },
  });
  await res.arrayBuffer();
  if (res.status === 404) return undefined;
  const digest = res.headers.get('docker-content-digest');
  if (res.status !== 200 || digest === null)
    throw new Error(`HEAD manifest ${repo}:${reference} answered ${res.status}`);
  return digest;
}

export interface PushedList {
  digest: string;
  mediaType: string;
  children: { amd64: string; arm64: string };
}

async function pushList(
  layoutDir: string,
  registry: RegistryTarget,
  repo: string,
  destTag: string,
  format: 'oci' | 'v2s2',
): Promise<PushedList> {
  const digest = await pushImage(layoutDir, 'multi', registry, repo, destTag, { format });
  const list = await fetchManifest(registry, repo, digest);
  const parsed = JSON.parse(list.body.toString('utf8')) as {
    manifests: { digest: string; platform?: { architecture?: string } }[];
  };
  const arch = (a: string): string => {
    const m = parsed.manifests.find((x) => x.platform?.architecture === a);
    if (m === undefined) throw new Error(`pushed list has no ${a} manifest`);
    return m.digest;
  };
  return { digest, mediaType: list.contentType, children: { amd64: arch('amd64'), arm64: arch('arm64') } };
}

/** Pushes the layout's `multi` OCI index (amd64 + arm64 nonroot) with its children. */
export function pushOciIndex(
  layoutDir: string,
  registry: RegistryTarget,
  repo: string,
  destTag: string,
): Promise<PushedList> {
  return pushList(layoutDir, registry, repo, destTag, 'oci');
}

/** The same pair as a Docker manifest list with schema 2 children (skopeo --all --format v2s2). */
export function pushDockerManifestList(
  layoutDir: string,
  registry: RegistryTarget,
  repo: string,
  destTag: string,
): Promise<PushedList> {
  return pushList(layoutDir, registry, repo, destTag, 'v2s2');
}

/** Uploads bytes as a blob: POST then one PUT with the digest (distribution-spec "monolithic upload"). */
export async function putBlob(
  registry: RegistryTarget,
  repo: string,
  bytes: Uint8Array | string,
): Promise<string> {
  const digest = sha256Digest(bytes);
  const start = await registryFetch(registry, `/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  await start.arrayBuffer();
  const location = start.headers.get('location');
  if (start.status !== 202 || location === null)
    throw new Error(`blob upload start answered ${start.status}`);
  const target = new URL(location, registry.url);
  target.searchParams.set('digest', digest);
  const done = await registryFetch(registry, `${target.pathname}${target.search}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream' },
    body: bytes,
  });
  await done.arrayBuffer();
  if (done.status !== 201) throw new Error(`blob upload answered ${done.status}`);
  return digest;
}

/** PUTs exact manifest bytes under `reference` with the given Content-Type; returns the digest. */
export async function putManifest(
  registry: RegistryTarget,
  repo: string,
  reference: string,
  bytes: Uint8Array | string,
  contentType: string,
): Promise<string> {
  const res = await registryFetch(registry, `/v2/${repo}/manifests/${reference}`, {
    method: 'PUT',
    headers: { 'content-type': contentType },
    body: bytes,
  });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`manifest PUT answered ${res.status}: ${text}`);
  return res.headers.get('docker-content-digest') ?? sha256Digest(bytes);
}

export interface SkopeoOptions {
  creds?: Credentials;
}

/** Digest of the manifest a reference resolves to, from the raw bytes `skopeo inspect --raw` returns. */
export async function skopeoInspectDigest(ref: string, opts: SkopeoOptions = {}): Promise<string> {
  const args = ['inspect', '--raw', '--tls-verify=false'];
  if (opts.creds !== undefined) args.push('--creds', credsArg(opts.creds));
  args.push(ref);
  const { stdout } = await run('skopeo', args);
  // skopeo writes the manifest verbatim; the digest is over those exact bytes.
  return sha256Digest(stdout);
}

/** `skopeo copy` from a registry into a fresh OCI layout; returns the copied manifest digest. */
export async function skopeoCopyDigest(
  ref: string,
  destLayoutDir: string,
  opts: SkopeoOptions = {},
): Promise<string> {
  const digestFile = join(processTempDir(), `digest-${randomUUID()}`);
  const args = ['copy', '--quiet', '--src-tls-verify=false', '--digestfile', digestFile];
  if (opts.creds !== undefined) args.push('--src-creds', credsArg(opts.creds));
  args.push(ref, `oci:${destLayoutDir}:pulled`);
  try {
    await run('skopeo', args);
    return (await readFile(digestFile, 'utf8')).trim();
  } finally {
    await rm(digestFile, { force: true });
  }
}

export const SEED_TAGS = [
  'nonroot',
  'root',
  'secretenv',
  'argleak',
  'v2s2',
  'oci-index',
  'docker-list',
  'big',
] as const;
export type SeedTag = (typeof SEED_TAGS)[number];

export interface SeededImages {
  repo: string;
  layout: ImageLayout;
  digests: Record<SeedTag, string>;
  children: Record<'oci-index' | 'docker-list', { amd64: string; arm64: string }>;
}

/**
 * Pushes the standard set to `REPO:{nonroot,root,secretenv,argleak,v2s2,oci-index,docker-list,big}`
 * (default repo `library/app`). Sequential on purpose: parallel skopeo pushes of shared layers
 * make upload races that are not what any test is about.
 */
export async function seedRegistry(
  registry: RegistryTarget,
  opts: { repo?: string } = {},
): Promise<SeededImages> {
  const repo = opts.repo ?? 'library/app';
  const layout = await testImages();
  const push = (tag: LayoutTag, dest: SeedTag, format?: 'v2s2') =>
    pushImage(layout.dir, tag, registry, repo, dest, format === undefined ? {} : { format });
  const nonroot = await push('nonroot', 'nonroot');
  const root = await push('root', 'root');
  const secretenv = await push('secretenv', 'secretenv');
  const argleak = await push('argleak', 'argleak');
  const v2s2 = await push('nonroot', 'v2s2', 'v2s2');
  const ociIndex = await pushOciIndex(layout.dir, registry, repo, 'oci-index');
  const dockerList = await pushDockerManifestList(layout.dir, registry, repo, 'docker-list');
  const big = await push('big', 'big');
  return {
    repo,
    layout,
    digests: {
      nonroot,
      root,
      secretenv,
      argleak,
      v2s2,
      'oci-index': ociIndex.digest,
      'docker-list': dockerList.digest,
      big,
    },
    children: { 'oci-index': ociIndex.children, 'docker-list': dockerList.children },
  };
}
