import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DockerdEnv, startDockerd } from '../../helpers/clients/dockerd.js';
import { seedRegistry } from '../../helpers/images.js';
import { type Pullgate, startPullgate } from '../../helpers/pullgate.js';
import { type Registry, startRegistry } from '../../helpers/registry.js';
import { failure } from './refused-images.js';

// What docker prints under each PULLGATE_DENY_ON_HEAD setting, as the README quotes it (issue 17). By default
// the refused HEAD is answered with headers and the GET by digest is refused: dockerd then warns that the
// registry "does not appear to conform", retries by tag and prints the reason after "error after falling back".
// With the setting on, the HEAD is refused and docker prints its usual "pull access denied ... denied: <reason>".
const reason = 'denied: run-as-root: image config has no USER (runs as root)';
let registry: Registry;
let byDefault: Pullgate;
let denyOnHead: Pullgate;
let dockerd: DockerdEnv;

beforeAll(async () => {
  registry = await startRegistry();
  await seedRegistry(registry);
  byDefault = await startPullgate({ env: { PULLGATE_UPSTREAM: registry.url } });
  denyOnHead = await startPullgate({
    env: { PULLGATE_UPSTREAM: registry.url, PULLGATE_DENY_ON_HEAD: 'true' },
  });
  dockerd = await startDockerd({ insecureRegistries: [byDefault.host, denyOnHead.host] });
});
afterAll(async () => {
  await dockerd?.stop();
  await byDefault?.stop();
  await denyOnHead?.stop();
  await registry?.stop();
});

describe('docker pull of a refused image', () => {
  it('under the default prints the reason after the by-tag fallback', async () => {
    const err = await failure(dockerd.pull(`${byDefault.host}/library/app:root`), 'docker');
    expect(err.stderr.trim()).toBe(`error after falling back to get manifest by tag: ${reason}`);
  });

  it('with PULLGATE_DENY_ON_HEAD=true prints "pull access denied" and the reason', async () => {
    const err = await failure(dockerd.pull(`${denyOnHead.host}/library/app:root`), 'docker');
    expect(err.stderr.trim()).toBe(
      `Error response from daemon: pull access denied for ${denyOnHead.host}/library/app, repository does not exist or may require 'docker login': ${reason}`,
    );
  });
});
