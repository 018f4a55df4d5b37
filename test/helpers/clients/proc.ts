import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createWriteStream, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

import { atProcessExit, processAlive, waitUntil } from '../proc.js';

// What the client helpers add to the shared process plumbing (../proc.ts): commands whose failure carries the
// client's own stderr, daemons that log to a file stream, processes we did not spawn (dockerd's containerd), and
// temp trees a crashed client may have left mounts in. The exit-time safety net and the waits are the shared ones.

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  elapsedMs: number;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  input?: string;
  timeoutMs?: number;
  /** How errors name the command, e.g. `ctr images pull`; defaults to the program and its first argument. */
  label?: string;
}

export class ClientCommandError extends Error {
  readonly command: string;
  readonly code: number;
  readonly stderr: string;

  constructor(command: string, result: RunResult) {
    const detail = result.stderr.trim() || result.stdout.trim();
    super(`${command} failed (exit ${result.code}): ${detail}`);
    this.name = 'ClientCommandError';
    this.command = command;
    this.code = result.code;
    this.stderr = result.stderr;
  }
}

/** Runs a command to completion; never throws for a non-zero exit (see `runOk`). */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: opts.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${opts.timeoutMs ?? 60_000} ms]`;
      killGroup(child, 'SIGKILL');
    }, opts.timeoutMs ?? 60_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code: code ?? (signal ? 128 : 1),
        stdout,
        stderr,
        elapsedMs: performance.now() - started,
      });
    });
    child.stdin.on('error', () => {
      // The command may exit before reading its input; the exit code tells the story.
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** Like `run`, but a non-zero exit becomes a ClientCommandError carrying the client's stderr. */
export async function runOk(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const result = await run(cmd, args, opts);
  if (result.code !== 0) {
    throw new ClientCommandError(opts.label ?? `${basename(cmd)} ${args[0] ?? ''}`.trim(), result);
  }
  return result;
}

// Last-resort cleanup: if a test process exits without running afterAll (a crash, a hook timeout),
// SIGKILL what is still registered so no daemon outlives the run. Normal stops unregister first.
const liveGroups = new Set<number>();
const livePids = new Set<number>();
const liveDirs = new Set<string>();
// The shared hook also runs on SIGTERM, which is how vitest ends its workers ('exit' alone would not run then).
atProcessExit(() => {
  for (const pgid of liveGroups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  for (const pid of livePids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  // Only synchronous work is possible in an 'exit' handler.
  for (const dir of liveDirs) {
    for (const m of mountsUnder(dir, readMountinfoSync())) spawnSync('umount', ['-l', m]);
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  }
});

/** Registers a process we did not spawn (e.g. dockerd's containerd) for the exit-time cleanup. */
export function trackPid(pid: number): void {
  livePids.add(pid);
}

export interface Daemon {
  child: ChildProcess;
  pid: number;
  exited: Promise<void>;
  isRunning(): boolean;
}

/**
 * Starts a long-running process in its own process group (so a stop can take its children too),
 * with stdout and stderr appended to `logFile`.
 */
export function spawnDaemon(
  cmd: string,
  args: readonly string[],
  logFile: string,
  env?: NodeJS.ProcessEnv,
): Daemon {
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(cmd, args, {
    env: env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  let running = true;
  const exited = new Promise<void>((resolve) => {
    child.on('exit', () => {
      running = false;
      resolve();
    });
    child.on('error', () => {
      running = false;
      resolve();
    });
  });
  if (child.pid === undefined) {
    throw new Error(`failed to start ${cmd}`);
  }
  const pgid = child.pid;
  liveGroups.add(pgid);
  void exited.then(() => {
    liveGroups.delete(pgid);
    log.end();
  });
  return { child, pid: child.pid, exited, isRunning: () => running };
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

/** True while `pid` runs; a zombie (exited, not yet reaped by whoever adopted it) counts as gone. */
export function pidAlive(pid: number): boolean {
  return processAlive(pid);
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopDaemon(daemon: Daemon, graceMs = 10_000): Promise<void> {
  if (!daemon.isRunning()) return;
  killGroup(daemon.child, 'SIGTERM');
  const graceful = await Promise.race([daemon.exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!graceful) {
    killGroup(daemon.child, 'SIGKILL');
    await daemon.exited;
  }
}

/** Stops a process we did not spawn ourselves (e.g. dockerd's containerd child) by pid. */
export async function stopPid(pid: number, graceMs = 10_000): Promise<void> {
  livePids.delete(pid);
  if (!pidAlive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (pidAlive(pid) && Date.now() < deadline) await sleep(50);
  if (pidAlive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
    while (pidAlive(pid)) await sleep(20);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function waitFor(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
): Promise<void> {
  return waitUntil(check, { what, timeoutMs });
}

/** A private temp dir; removeTree() it when done (it is also removed at process exit as a last resort). */
export async function makeTempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `pullgate-${prefix}-`));
  liveDirs.add(dir);
  return dir;
}

function readMountinfoSync(): string {
  try {
    return readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return '';
  }
}

/** Mount points at or below `dir`, deepest first (field 5 of proc(5) mountinfo). */
function mountsUnder(dir: string, mountinfo: string): string[] {
  return mountinfo
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((m): m is string => m !== undefined && (m === dir || m.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
}

/**
 * Unmounts anything still mounted below `dir` (deepest first) and removes it. dockerd bind-mounts
 * its data-root onto itself and containerd mounts snapshots while unpacking; a crash can leave them.
 */
export async function removeTree(dir: string): Promise<void> {
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  for (const m of mountsUnder(dir, mountinfo)) {
    await run('umount', ['-l', m], { timeoutMs: 10_000 });
  }
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  liveDirs.delete(dir);
}
