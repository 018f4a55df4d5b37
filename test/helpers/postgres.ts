import { chown, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { PortInUseError, withFreePort } from './ports.js';
import { type Daemon, run, startProcess } from './proc.js';
import { makeTempDir, type TempDir } from './tmp.js';

const BIN = '/usr/lib/postgresql/15/bin';

export interface Postgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust auth: no password). */
  readonly url: string;
  readonly port: number;
  /** Creates a fresh database and returns its URL (one per test keeps tests apart on one server). */
  createDatabase(name?: string): Promise<string>;
  /** Shuts the server down (fast), keeping its data: an outage. */
  pause(): Promise<void>;
  /** Starts the paused server again on the same port with the same data. */
  resume(): Promise<void>;
  stop(): Promise<void>;
}

async function uidGid(user: string): Promise<{ uid: number; gid: number }> {
  const uid = Number((await run('id', ['-u', user])).stdout.trim());
  const gid = Number((await run('id', ['-g', user])).stdout.trim());
  return { uid, gid };
}

/** Runs a PostgreSQL binary as the `postgres` OS user: postgres refuses to run as root. */
function asPostgres(binary: string, args: readonly string[]): [string, string[]] {
  return ['runuser', ['-u', 'postgres', '--', join(BIN, binary), ...args]];
}

async function waitReady(daemon: Daemon, port: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const log = await daemon.readLog();
    if (/could not bind|Address already in use/.test(log)) throw new PortInUseError(port);
    if (log.includes('database system is ready to accept connections')) return;
    if (daemon.exitStatus() !== undefined)
      throw new Error(`postgres exited during start:\n${log.slice(-2000)}`);
    if (Date.now() > deadline) throw new Error(`postgres did not become ready:\n${log.slice(-2000)}`);
    await sleep(50);
  }
}

/**
 * Starts a real PostgreSQL 15 (the Debian package) in a temp dir: initdb with trust auth, the unix socket in the
 * temp dir, TCP on 127.0.0.1 and a free port, fsync off (test data). `stop()` shuts it down and removes the dir.
 */
export async function startPostgres(): Promise<Postgres> {
  const tmp: TempDir = await makeTempDir('pg');
  const { uid, gid } = await uidGid('postgres');
  const dataDir = join(tmp.path, 'data');
  const socketDir = join(tmp.path, 'sock');
  await mkdir(dataDir, { mode: 0o700 });
  await mkdir(socketDir, { mode: 0o700 });
  for (const dir of [tmp.path, dataDir, socketDir]) await chown(dir, uid, gid);
  const [initCmd, initArgs] = asPostgres('initdb', [
    '-D',
    dataDir,
    '-A',
    'trust',
    '-U',
    'postgres',
    '-E',
    'UTF8',
    '--locale=C',
    '--no-sync',
  ]);
  await run(initCmd, initArgs, { timeoutMs: 60_000 });

  let daemon: Daemon | undefined;
  let launches = 0;
  const launch = async (candidate: number): Promise<Daemon> => {
    launches++;
    const logPath = join(tmp.path, `postgres-${candidate}-${launches}.log`);
    const [cmd, args] = asPostgres('postgres', [
      '-D',
      dataDir,
      '-k',
      socketDir,
      '-p',
      String(candidate),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'max_connections=200',
      '-F',
    ]);
    const started = await startProcess(cmd, args, { logPath });
    try {
      await waitReady(started, candidate);
    } catch (err) {
      await started.stop(2_000);
      throw err;
    }
    return started;
  };
  const port = await withFreePort(async (candidate) => {
    daemon = await launch(candidate);
    return candidate;
  });
  const pgCtlStop = asPostgres('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', '-t', '20', 'stop']);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let counter = 0;

  return {
    url,
    port,
    async createDatabase(name) {
      counter++;
      const db = name ?? `t_${process.pid}_${Date.now()}_${counter}`;
      if (!/^[a-z_][a-z0-9_]*$/.test(db)) throw new Error(`bad database name ${db}`);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`create database ${db}`);
      } finally {
        await client.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${db}`;
    },
    async pause() {
      await run(pgCtlStop[0], pgCtlStop[1], { timeoutMs: 30_000 });
      await daemon?.stop(5_000);
      daemon = undefined;
    },
    async resume() {
      daemon = await launch(port);
    },
    async stop() {
      // A fast shutdown first (SIGTERM alone is the "smart" one, which waits for clients to leave).
      await run(pgCtlStop[0], pgCtlStop[1], { allowFailure: true, timeoutMs: 30_000 });
      await daemon?.stop(5_000);
      await tmp.cleanup();
    },
  };
}
