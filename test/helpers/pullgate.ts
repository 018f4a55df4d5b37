import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { type AppOverrides, buildApp } from '../../src/app.js';
import { type Config, loadConfig } from '../../src/config/config.js';
import { makeTempDir, type TempDir } from './tmp.js';

export interface Pullgate {
  url: string;
  host: string;
  port: number;
  app: FastifyInstance;
  config: Config;
  dataDir: string;
  stop(): Promise<void>;
}

export interface StartPullgateOptions extends AppOverrides {
  /** PULLGATE_* variables; PULLGATE_UPSTREAM is required (the real registry's URL). */
  env: Record<string, string>;
  /** Edit the loaded config (e.g. shorter upstream timeouts) before the app is built. */
  tweak?: (config: Config) => void;
  /** Reuse a data directory (restart tests); default: a fresh temp dir. */
  dataDir?: string;
}

/** pullgate in this process, listening on a free loopback port: real sockets, real upstream. */
export async function startPullgate(options: StartPullgateOptions): Promise<Pullgate> {
  let temp: TempDir | undefined;
  let dataDir = options.dataDir;
  if (dataDir === undefined) {
    temp = await makeTempDir('pullgate');
    dataDir = temp.path;
  }
  const config = loadConfig({
    PULLGATE_LISTEN: '127.0.0.1:0',
    PULLGATE_DATA_DIR: dataDir,
    PULLGATE_LOG_LEVEL: 'silent',
    ...options.env,
  });
  options.tweak?.(config);
  const app = await buildApp(config, options);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    port,
    app,
    config,
    dataDir,
    stop: async () => {
      await app.close();
      await temp?.cleanup();
    },
  };
}
