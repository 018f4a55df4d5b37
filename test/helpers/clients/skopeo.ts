import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Credentials, writeAuthFile } from './auth-file.js';
import { makeTempDir, removeTree, runOk } from './proc.js';

// skopeo (1.9) as a pull client. `ref` is a registry reference without transport, e.g.
// `127.0.0.1:5000/library/app:v1`. Failures throw ClientCommandError whose message carries skopeo's
// stderr, e.g. `... denied: <message>` for a registry DENIED error (distribution-spec §error codes).

export interface SkopeoOptions {
  /** Defaults to false: the test registries speak plain HTTP on loopback. */
  tlsVerify?: boolean;
  creds?: Credentials;
  timeoutMs?: number;
}

export interface SkopeoCopyResult {
  manifestDigest: string;
  elapsedMs: number;
}

function registryHost(ref: string): string {
  const slash = ref.indexOf('/');
  return slash < 0 ? ref : ref.slice(0, slash);
}

async function authArgs(
  flag: string,
  dir: string,
  ref: string,
  creds: Credentials | undefined,
): Promise<string[]> {
  if (!creds) return [];
  const path = join(dir, 'auth.json');
  await writeAuthFile(path, registryHost(ref), creds);
  return [flag, path];
}

/** Pulls every blob of `ref` into a throw-away OCI layout and reports the manifest digest skopeo wrote. */
export async function skopeoCopy(ref: string, opts: SkopeoOptions = {}): Promise<SkopeoCopyResult> {
  const work = await makeTempDir('skopeo');
  try {
    const digestFile = join(work, 'digest');
    const args = [
      'copy',
      '--quiet',
      `--src-tls-verify=${opts.tlsVerify ?? false}`,
      '--digestfile',
      digestFile,
      ...(await authArgs('--src-authfile', work, ref, opts.creds)),
      `docker://${ref}`,
      `oci:${join(work, 'oci')}:pulled`,
    ];
    const { elapsedMs } = await runOk('skopeo', args, { timeoutMs: opts.timeoutMs ?? 60_000 });
    return { manifestDigest: (await readFile(digestFile, 'utf8')).trim(), elapsedMs };
  } finally {
    await removeTree(work);
  }
}

export interface SkopeoInspectResult {
  Digest: string;
  Architecture?: string;
  Os?: string;
  Layers?: string[];
  [key: string]: unknown;
}

function isInspectResult(v: unknown): v is SkopeoInspectResult {
  return typeof v === 'object' && v !== null && typeof (v as { Digest?: unknown }).Digest === 'string';
}

/** `skopeo inspect -n`: `-n` skips the tags/list request, so only manifest and config are fetched. */
export async function skopeoInspect(ref: string, opts: SkopeoOptions = {}): Promise<SkopeoInspectResult> {
  const work = await makeTempDir('skopeo');
  try {
    const args = [
      'inspect',
      '-n',
      `--tls-verify=${opts.tlsVerify ?? false}`,
      ...(await authArgs('--authfile', work, ref, opts.creds)),
      `docker://${ref}`,
    ];
    const { stdout } = await runOk('skopeo', args, { timeoutMs: opts.timeoutMs ?? 60_000 });
    const parsed: unknown = JSON.parse(stdout);
    if (!isInspectResult(parsed))
      throw new Error(`unexpected skopeo inspect output: ${stdout.slice(0, 200)}`);
    return parsed;
  } finally {
    await removeTree(work);
  }
}
