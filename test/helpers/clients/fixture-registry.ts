import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir, removeTree, runOk, spawnDaemon, stopDaemon, waitFor } from './proc.js';

// A throw-away distribution registry (2.8.2) for proving the client helpers. It listens on port 0 and
// reads the chosen port from its "listening on" log line, so it can never collide with another
// registry on this machine (a probed port can be taken between probe and bind).

export interface FixtureRegistry {
  /** host:port, e.g. 127.0.0.1:41234 */
  host: string;
  url: string;
  /** Access-log request lines seen so far, e.g. `GET /v2/library/app/manifests/root HTTP/1.1`. */
  requests(): Promise<string[]>;
  stop(): Promise<void>;
}

export interface FixtureRegistryOptions {
  /** Enables htpasswd basic auth with this single account. */
  basicAuth?: { user: string; password: string };
}

export async function startFixtureRegistry(opts: FixtureRegistryOptions = {}): Promise<FixtureRegistry> {
  const dir = await makeTempDir('registry');
  const logFile = join(dir, 'registry.log');
  let auth = '';
  if (opts.basicAuth) {
    const { stdout } = await runOk('htpasswd', ['-Bbn', opts.basicAuth.user, opts.basicAuth.password]);
    await writeFile(join(dir, 'htpasswd'), stdout);
    auth = `auth: {htpasswd: {realm: basic-realm, path: ${join(dir, 'htpasswd')}}}\n`;
  }
  await writeFile(
    join(dir, 'config.yml'),
    [
      'version: 0.1',
      'log: {level: info, accesslog: {disabled: false}}',
      'storage:',
      `  filesystem: {rootdirectory: ${join(dir, 'data')}}`,
      '  delete: {enabled: true}',
      'http: {addr: "127.0.0.1:0", secret: any}',
      auth,
    ].join('\n'),
  );
  const daemon = spawnDaemon('docker-registry', ['serve', join(dir, 'config.yml')], logFile);
  const readLog = (): Promise<string> => readFile(logFile, 'utf8').catch(() => '');
  let host = '';
  try {
    await waitFor(
      'docker-registry to listen',
      async () => {
        if (!daemon.isRunning()) throw new Error(`docker-registry exited: ${await readLog()}`);
        const m = /listening on (127\.0\.0\.1:\d+)/.exec(await readLog());
        if (m?.[1] === undefined) return false;
        host = m[1];
        return true;
      },
      10_000,
    );
  } catch (err) {
    await stopDaemon(daemon);
    await removeTree(dir);
    throw err;
  }
  return {
    host,
    url: `http://${host}`,
    async requests() {
      const log = await readLog();
      return [...log.matchAll(/"((?:GET|HEAD|PUT|POST|PATCH|DELETE) \S+ HTTP\/[\d.]+)"/g)].flatMap((m) =>
        m[1] === undefined ? [] : [m[1]],
      );
    },
    async stop() {
      await stopDaemon(daemon);
      await removeTree(dir);
    },
  };
}
