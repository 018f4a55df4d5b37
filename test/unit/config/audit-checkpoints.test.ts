import { generateKeyPairSync } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/config.js';
import { makeTempDir } from '../../helpers/tmp.js';

const pem = () =>
  generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

describe('decision log checkpoint settings', () => {
  it('names the log after the host unless PULLGATE_AUDIT_ORIGIN says otherwise', () => {
    expect(loadConfig({}, '/srv').audit.origin).toBe(`pullgate/${hostname()}/decisions`);
    expect(
      loadConfig({ PULLGATE_AUDIT_ORIGIN: 'pullgate.example.com/r2/decisions' }, '/srv').audit.origin,
    ).toBe('pullgate.example.com/r2/decisions');
  });

  it('refuses an origin that cannot be a note key name', () => {
    expect(() => loadConfig({ PULLGATE_AUDIT_ORIGIN: 'my log' }, '/srv')).toThrowError(
      /PULLGATE_AUDIT_ORIGIN/,
    );
  });

  it('leaves checkpoints unsigned when no signing key file is set', () => {
    expect(loadConfig({}, '/srv').audit.signingKey).toBeUndefined();
  });

  it('loads the signing key from a file outside the data directory', async () => {
    await using tmp = await makeTempDir('config-key');
    await writeFile(join(tmp.path, 'key.pem'), pem());
    const config = loadConfig(
      {
        PULLGATE_DATA_DIR: join(tmp.path, 'data'),
        PULLGATE_AUDIT_SIGNING_KEY_FILE: join(tmp.path, 'key.pem'),
      },
      '/srv',
    );
    expect(config.audit.signingKey?.asymmetricKeyType).toBe('ed25519');
  });

  it('refuses a signing key inside the data directory, naming the file', async () => {
    await using tmp = await makeTempDir('config-key');
    await mkdir(join(tmp.path, 'data'));
    const key = join(tmp.path, 'data', 'key.pem');
    await writeFile(key, pem());
    const load = () =>
      loadConfig({ PULLGATE_DATA_DIR: join(tmp.path, 'data'), PULLGATE_AUDIT_SIGNING_KEY_FILE: key }, '/srv');
    expect(load).toThrowError(ConfigError);
    expect(load).toThrowError(`PULLGATE_AUDIT_SIGNING_KEY_FILE: ${key} is inside the data directory`);
  });

  it('refuses a signing key file that cannot be read, naming the file', async () => {
    await using tmp = await makeTempDir('config-key');
    const key = join(tmp.path, 'missing.pem');
    expect(() => loadConfig({ PULLGATE_AUDIT_SIGNING_KEY_FILE: key }, '/srv')).toThrowError(
      `PULLGATE_AUDIT_SIGNING_KEY_FILE: ${key} cannot be read (ENOENT)`,
    );
  });
});
