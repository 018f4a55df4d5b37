import { generateKeyPairSync } from 'node:crypto';
import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSigningKey } from '../../../src/audit/signing-key.js';
import { makeTempDir } from '../../helpers/tmp.js';

const ed25519Pem = () =>
  generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

describe('the checkpoint signing key file', () => {
  it('loads an Ed25519 PEM key outside the data directory', async () => {
    await using tmp = await makeTempDir('signing-key');
    await writeFile(join(tmp.path, 'key.pem'), ed25519Pem());
    const loaded = loadSigningKey(join(tmp.path, 'key.pem'), join(tmp.path, 'data'));
    expect(loaded.ok && loaded.key.asymmetricKeyType).toBe('ed25519');
  });

  it('refuses a key inside the data directory', async () => {
    await using tmp = await makeTempDir('signing-key');
    await mkdir(join(tmp.path, 'data'));
    await writeFile(join(tmp.path, 'data', 'key.pem'), ed25519Pem());
    expect(loadSigningKey(join(tmp.path, 'data', 'key.pem'), join(tmp.path, 'data'))).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/inside the data directory/),
    });
  });

  it('refuses a link from outside that points into the data directory', async () => {
    await using tmp = await makeTempDir('signing-key');
    await mkdir(join(tmp.path, 'data'));
    await writeFile(join(tmp.path, 'data', 'key.pem'), ed25519Pem());
    await symlink(join(tmp.path, 'data', 'key.pem'), join(tmp.path, 'link.pem'));
    expect(loadSigningKey(join(tmp.path, 'link.pem'), join(tmp.path, 'data'))).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/inside the data directory/),
    });
  });

  it('refuses a file that cannot be read, naming the error code', async () => {
    await using tmp = await makeTempDir('signing-key');
    expect(loadSigningKey(join(tmp.path, 'missing.pem'), join(tmp.path, 'data'))).toEqual({
      ok: false,
      problem: 'cannot be read (ENOENT)',
    });
  });

  it('refuses a key that is not Ed25519, without quoting the file', async () => {
    await using tmp = await makeTempDir('signing-key');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    await writeFile(join(tmp.path, 'rsa.pem'), rsa);
    await chmod(join(tmp.path, 'rsa.pem'), 0o600);
    const loaded = loadSigningKey(join(tmp.path, 'rsa.pem'), join(tmp.path, 'data'));
    expect(loaded).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/holds a rsa key, not Ed25519/),
    });
    expect(JSON.stringify(loaded)).not.toContain('PRIVATE KEY');
  });

  it('refuses a file that is not a PEM private key', async () => {
    await using tmp = await makeTempDir('signing-key');
    await writeFile(join(tmp.path, 'junk.pem'), 'not a key\n');
    expect(loadSigningKey(join(tmp.path, 'junk.pem'), join(tmp.path, 'data'))).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/not an unencrypted PEM private key/),
    });
  });
});
