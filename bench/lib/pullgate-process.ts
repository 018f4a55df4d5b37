import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PortInUseError, withFreePort } from '../../test/helpers/ports.js';
import { type Daemon, startProcess, waitForUrl } from '../../test/helpers/proc.js';
import { makeTempDir, type TempDir } from '../../test/helpers/tmp.js';

export interface PullgateProcess {
  url: string;
  pid: number;
  dataDir: string;
  /** Peak resident set size since start or the last resetPeak(), in bytes (proc(5) VmHWM). */
  peakRss(): number;
  /** Current resident set size in bytes (VmRSS). */
  rss(): number;
  /** Resets VmHWM to the current RSS (proc(5) /proc/pid/clear_refs, value 5). */
  resetPeak(): void;
  readLog(): Promise<string>;
  stop(): Promise<void>;
}

export interface PullgateOptions {
  repoRoot: string;
  upstreamUrl: string;
  /** Reuse this data dir (kept on stop); default: a fresh temp dir removed on stop. */
  dataDir?: string;
  env?: Record<string, string>;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];
}

/**
 * The node flags `npm start` runs pullgate with (package.json "start": `node <flags> dist/cli.js serve`), so the
 * benchmark measures pullgate as it is run, and a flag changed there is measured here without a second copy.
 */
export function startNodeFlags(repoRoot: string): string[] {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
    scripts?: { start?: string };
  };
  const words = (pkg.scripts?.start ?? '').trim().split(/\s+/);
  const script = words.indexOf('dist/cli.js');
  if (words[0] !== 'node' || script === -1 || words[script + 1] !== 'serve') {
    throw new Error(
      `package.json "start" is not "node [flags] dist/cli.js serve": ${pkg.scripts?.start ?? '(none)'}`,
    );
  }
  return words.slice(1, script);
}

function statusField(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  if (m?.[1] === undefined) throw new Error(`no ${field} for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/**
 * pullgate built from this tree (dist/cli.js) as its own process, so its event loop and its RSS are its
 * own. Toggles it does not know (PULLGATE_POLICY_ENABLED, PULLGATE_AUDIT_ENABLED) are simply ignored.
 */
export async function startPullgateProcess(opts: PullgateOptions): Promise<PullgateProcess> {
  let temp: TempDir | undefined;
  let dataDir = opts.dataDir;
  if (dataDir === undefined) {
    temp = await makeTempDir('bench-pullgate');
    dataDir = temp.path;
  }
  const logDir = await makeTempDir('bench-pullgate-log');
  const dir = dataDir;
  const launch = async (port: number): Promise<{ port: number; daemon: Daemon }> => {
    const daemon = await startProcess(
      process.execPath,
      [
        ...startNodeFlags(opts.repoRoot),
        ...(opts.nodeArgs ?? []),
        join(opts.repoRoot, 'dist', 'cli.js'),
        'serve',
      ],
      {
        cwd: opts.repoRoot,
        logPath: join(logDir.path, `pullgate-${port}.log`),
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: process.env.HOME ?? '/root',
          PULLGATE_LISTEN: `127.0.0.1:${port}`,
          PULLGATE_UPSTREAM: opts.upstreamUrl,
          PULLGATE_DATA_DIR: dir,
          PULLGATE_LOG_LEVEL: 'warn',
          PULLGATE_TAG_TTL: '30',
          PULLGATE_POLICY_ENABLED: 'false',
          PULLGATE_AUDIT_ENABLED: 'false',
          ...opts.env,
        },
      },
    );
    try {
      await waitForUrl(`http://127.0.0.1:${port}/v2/`, {
        daemon,
        timeoutMs: 20_000,
        accept: (s) => s === 200,
      });
    } catch (e) {
      await daemon.stop();
      const log = await daemon.readLog().catch(() => '');
      if (log.includes('EADDRINUSE')) throw new PortInUseError(port);
      throw e;
    }
    return { port, daemon };
  };
  let started: { port: number; daemon: Daemon };
  try {
    started = await withFreePort(launch);
  } catch (e) {
    await temp?.cleanup();
    await logDir.cleanup();
    throw e;
  }
  const { daemon, port } = started;
  return {
    url: `http://127.0.0.1:${port}`,
    pid: daemon.pid,
    dataDir: dir,
    peakRss: () => statusField(daemon.pid, 'VmHWM'),
    rss: () => statusField(daemon.pid, 'VmRSS'),
    resetPeak: () => writeFileSync(`/proc/${daemon.pid}/clear_refs`, '5'),
    readLog: () => daemon.readLog(),
    stop: async () => {
      await daemon.stop(15_000);
      await temp?.cleanup();
      await logDir.cleanup();
    },
  };
}
