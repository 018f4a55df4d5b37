import { join } from 'node:path';
import { getFreePort } from './ports.js';
import { type Daemon, startProcess, waitForUrl } from './proc.js';

export interface PullgateProcess {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** `127.0.0.1:<port>`, for a load balancer's backend list. */
  host: string;
  port: number;
  replica: string;
  daemon: Daemon;
  stop(): Promise<void>;
}

export interface StartPullgateProcessOptions {
  /** PULLGATE_REPLICA_ID; also names the log file. */
  replica: string;
  /** PULLGATE_DATA_DIR (kept by the caller: restart and `log verify` tests read it). */
  dataDir: string;
  /** Where the process's stdout and stderr go. */
  logDir: string;
  /** PULLGATE_* variables; PULLGATE_UPSTREAM is required. */
  env: Record<string, string>;
}

/**
 * `pullgate serve` as its own process (from the sources, through tsx), on 127.0.0.1 and a free port, returned once
 * `/readyz` answers 200: a fleet test's replica, which can be killed, and which does not share the test's event loop.
 */
export async function startPullgateProcess(options: StartPullgateProcessOptions): Promise<PullgateProcess> {
  const port = await getFreePort();
  const daemon = await startProcess(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve'], {
    logPath: join(options.logDir, `pullgate-${options.replica}-${port}.log`),
    env: {
      ...process.env,
      PULLGATE_LISTEN: `127.0.0.1:${port}`,
      PULLGATE_DATA_DIR: options.dataDir,
      PULLGATE_REPLICA_ID: options.replica,
      PULLGATE_LOG_LEVEL: 'warn',
      ...options.env,
    },
  });
  try {
    await waitForUrl(`http://127.0.0.1:${port}/readyz`, {
      daemon,
      timeoutMs: 90_000,
      accept: (s) => s === 200,
    });
  } catch (err) {
    await daemon.stop(2_000);
    throw err;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    port,
    replica: options.replica,
    daemon,
    stop: () => daemon.stop(10_000),
  };
}

/**
 * A fleet: one `pullgate serve` per id (in turn, so a start failure names its replica), each with its data dir
 * `<root>/<id>` and its log in `root`, sharing `env` plus what `envFor` adds for one of them.
 */
export async function startReplicas(
  ids: readonly string[],
  root: string,
  env: Record<string, string>,
  envFor: (id: string) => Record<string, string> = () => ({}),
): Promise<PullgateProcess[]> {
  const replicas: PullgateProcess[] = [];
  for (const id of ids) {
    replicas.push(
      await startPullgateProcess({
        replica: id,
        dataDir: join(root, id),
        logDir: root,
        env: { ...env, ...envFor(id) },
      }),
    );
  }
  return replicas;
}
