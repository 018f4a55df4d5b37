import { copyFile, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Credentials, writeAuthFile } from './auth-file.js';
import { makeTempDir, removeTree, runOk } from './proc.js';

// A small real image (busybox-static rootfs, about 1 MB) built with umoci, per CLIENTS.md. Building
// takes about 0.1 s, so each push builds afresh in its own temp dir and nothing outlives the call.

async function buildLayout(dir: string): Promise<string> {
  const rootfs = join(dir, 'rootfs');
  await mkdir(join(rootfs, 'bin'), { recursive: true });
  await mkdir(join(rootfs, 'etc'), { recursive: true });
  await copyFile('/bin/busybox', join(rootfs, 'bin', 'busybox'));
  await symlink('busybox', join(rootfs, 'bin', 'sh'));
  await writeFile(join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  const oci = join(dir, 'oci');
  const opts = { timeoutMs: 30_000 };
  await runOk('umoci', ['init', '--layout', oci], opts);
  await runOk('umoci', ['new', '--image', `${oci}:base`], opts);
  await runOk(
    'umoci',
    ['insert', '--image', `${oci}:base`, '--history.created_by', 'COPY rootfs /', rootfs, '/'],
    opts,
  );
  await runOk(
    'umoci',
    [
      'config',
      '--image',
      `${oci}:base`,
      '--tag',
      'app',
      '--config.cmd',
      '/bin/sh',
      '--config.env',
      'PATH=/bin',
      '--os',
      'linux',
      '--architecture',
      'amd64',
    ],
    opts,
  );
  return oci;
}

export interface PushOptions {
  creds?: Credentials;
}

/** Pushes the fixture image to `host/repositoryAndTag` (e.g. `library/app:v1`); returns the manifest digest. */
export async function pushFixtureImage(
  host: string,
  repositoryAndTag: string,
  opts: PushOptions = {},
): Promise<string> {
  const work = await makeTempDir('push');
  try {
    const oci = await buildLayout(work);
    const digestFile = join(work, 'digest');
    const args = ['copy', '--quiet', '--dest-tls-verify=false', '--digestfile', digestFile];
    if (opts.creds) {
      await writeAuthFile(join(work, 'auth.json'), host, opts.creds);
      args.push('--dest-authfile', join(work, 'auth.json'));
    }
    await runOk('skopeo', [...args, `oci:${oci}:app`, `docker://${host}/${repositoryAndTag}`], {
      timeoutMs: 60_000,
    });
    return (await readFile(digestFile, 'utf8')).trim();
  } finally {
    await removeTree(work);
  }
}
