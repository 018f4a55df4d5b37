import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string | Uint8Array;
  timeoutMs?: number;
  /** Resolve with the exit code instead of rejecting when it is not 0. */
  allowFailure?: boolean;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The message names the command and its first argument only: arguments often carry planted
 * secrets or passwords (umoci --config.env, htpasswd -b), which must never reach a log.
 */
export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly code: number,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(`${command} exited with ${code}: ${stderr.trim() || stdout.trim()}`);
    this.name = 'CommandError';
  }
}

export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const label = args[0] === undefined ? cmd : `${cmd} ${args[0]}`;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      timeout: opts.timeoutMs ?? 120_000,
      killSignal: 'SIGKILL',
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (c: Buffer) => out.push(c));
    child.stderr?.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const result: RunResult = {
        code: code ?? (signal === null ? 1 : 128),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      };
      if (result.code !== 0 && opts.allowFailure !== true) {
        const why = signal === null ? result.stderr : `killed by ${signal}\n${result.stderr}`;
        reject(new CommandError(label, result.code, result.stdout, why));
        return;
      }
      resolve(result);
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Daemon {
  readonly pid: number;
  readonly logPath: string;
  /** Settles when the main process has exited (the group may still hold children). */
  readonly exited: Promise<ExitStatus>;
  exitStatus(): ExitStatus | undefined;
  readLog(): Promise<string>;
  /** SIGTERM to the whole process group, SIGKILL after graceMs; resolves once the group is gone. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** stdout and stderr are appended here. */
  logPath: string;
}

const exitHooks: (() => void)[] = [];
let exitHooksInstalled = false;

function runExitHooks(): void {
  for (const hook of exitHooks.splice(0)) {
    try {
      hook();
    } catch {
      // Best effort: one failing hook must not keep the others from running.
    }
  }
}

/**
 * Runs `hook` synchronously when the test process ends. Vitest ends its fork workers with SIGTERM,
 * which skips 'exit' handlers unless the signal is caught, so catch it, clean up and re-raise.
 */
export function atProcessExit(hook: () => void): void {
  exitHooks.push(hook);
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.once('exit', runExitHooks);
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.once(signal, () => {
      runExitHooks();
      // Re-raise for the default action unless someone else handles the signal.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

// A safety net for a worker that dies before its afterAll: no daemon may outlive the test process.
const live = new Set<number>();
atProcessExit(() => {
  for (const pid of live) killGroup(pid, 'SIGKILL');
});

function killGroup(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether any live (non-zombie) process is still in the group. kill(-pgid, 0) alone also counts
 * zombies, and orphans re-parented to a slow-reaping init stay zombies for a while (proc(5) stat).
 */
export function groupAlive(pgid: number): boolean {
  if (!killGroup(pgid, 0)) return false;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return true;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // Fields after the parenthesised command name: state, ppid, pgrp, ...
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[2] === String(pgid) && fields[0] !== 'Z') return true;
  }
  return false;
}

/** Whether a process exists and is not a zombie. */
export function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Starts a long-running process in its own process group, so stop() also reaches its children. */
export async function startProcess(
  cmd: string,
  args: readonly string[],
  opts: StartOptions,
): Promise<Daemon> {
  const fd = openSync(opts.logPath, 'a');
  let child: ChildProcess;
  try {
    child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', fd, fd],
      detached: true,
    });
  } finally {
    closeSync(fd);
  }
  const pid = await new Promise<number>((resolve, reject) => {
    child.once('spawn', () => {
      if (child.pid === undefined) reject(new Error(`${cmd}: no pid after spawn`));
      else resolve(child.pid);
    });
    child.once('error', reject);
  });
  live.add(pid);
  let status: ExitStatus | undefined;
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once('exit', (code, signal) => {
      status = { code, signal };
      resolve(status);
    });
  });
  // Without this, a test that forgets stop() keeps its worker alive; the exit hook still kills it.
  child.unref();

  const stop = async (graceMs = 5_000): Promise<void> => {
    if (!live.has(pid)) return;
    killGroup(pid, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (groupAlive(pid) && Date.now() < deadline) await sleep(25);
    killGroup(pid, 'SIGKILL');
    // SIGKILL is delivered asynchronously; wait until the kernel has really ended every member.
    const killDeadline = Date.now() + 5_000;
    while (groupAlive(pid) && Date.now() < killDeadline) await sleep(10);
    await Promise.race([exited, sleep(2_000)]);
    live.delete(pid);
  };

  return {
    pid,
    logPath: opts.logPath,
    exited,
    exitStatus: () => status,
    readLog: () => readFile(opts.logPath, 'utf8'),
    stop,
  };
}

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Named in the timeout error. */
  what?: string;
  /** Fail fast, with the tail of its log, when this process exits while we wait. */
  daemon?: Daemon;
}

export async function waitUntil(
  check: () => Promise<boolean> | boolean,
  opts: WaitOptions = {},
): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const intervalMs = opts.intervalMs ?? 25;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (e) {
      lastError = e;
    }
    const d = opts.daemon;
    const st = d?.exitStatus();
    if (d !== undefined && st !== undefined) {
      const tail = (await d.readLog().catch(() => '')).split('\n').slice(-20).join('\n');
      throw new Error(
        `process exited (code ${st.code}, signal ${st.signal}) while waiting for ${opts.what ?? 'condition'}:\n${tail}`,
      );
    }
    if (Date.now() >= deadline) {
      const cause = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${opts.what ?? 'condition'}${cause}`);
    }
    await sleep(intervalMs);
  }
}

export interface WaitForUrlOptions extends WaitOptions {
  /** Which answers count as ready; default: any HTTP answer below 500. */
  accept?: (status: number) => boolean;
  headers?: Record<string, string>;
}

export async function waitForUrl(url: string, opts: WaitForUrlOptions = {}): Promise<void> {
  const accept = opts.accept ?? ((s: number) => s < 500);
  await waitUntil(
    async () => {
      const res = await fetch(url, { headers: opts.headers, signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      return accept(res.status);
    },
    { ...opts, what: opts.what ?? url },
  );
}

export async function waitForFile(path: string, opts: WaitOptions = {}): Promise<void> {
  await waitUntil(
    () =>
      access(path).then(
        () => true,
        () => false,
      ),
    { ...opts, what: opts.what ?? path },
  );
}

/** Waits until the daemon's log contains `needle` (e.g. a "listening on" line). */
export async function waitForLog(
  daemon: Daemon,
  needle: string | RegExp,
  opts: WaitOptions = {},
): Promise<string> {
  let log = '';
  await waitUntil(
    async () => {
      log = await daemon.readLog();
      return typeof needle === 'string' ? log.includes(needle) : needle.test(log);
    },
    { daemon, ...opts, what: opts.what ?? `log line ${String(needle)}` },
  );
  return log;
}
