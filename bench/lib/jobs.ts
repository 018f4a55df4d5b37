import { spawn } from 'node:child_process';
import { join } from 'node:path';

/** What bench/load.ts runs; one job per process. */
export type LoadJob =
  | {
      kind: 'latency';
      origin: string;
      path: string;
      method: 'GET' | 'HEAD';
      headers: Record<string, string>;
      expectDigest: string;
      warmup: number;
      count: number;
      maxMs: number;
    }
  | {
      kind: 'throughput';
      origin: string;
      path: string;
      method: 'GET' | 'HEAD';
      headers: Record<string, string>;
      expectDigest: string;
      connections: number;
      durationMs: number;
      maxRequests: number;
      /** Hash one GET body in this many. */
      verifyEvery: number;
    }
  | {
      kind: 'blob';
      origin: string;
      path: string;
      expectDigest: string;
      size: number;
      streams: number;
      /** 'all': sha256 of every stream; 'one': of the first stream, byte counts of the rest. */
      verify: 'all' | 'one';
    }
  | {
      kind: 'pulls';
      origin: string;
      repo: string;
      tag: string;
      accept: string;
      expectManifestDigest: string;
      count: number;
      concurrency: number;
      connections: number;
      /** Count failed pulls instead of failing the job (the distribution proxy answers 500 under load). */
      tolerateErrors: boolean;
    };

export interface LatencyResult {
  kind: 'latency';
  count: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
}

export interface ThroughputResult {
  kind: 'throughput';
  requests: number;
  errors: number;
  elapsedMs: number;
  rps: number;
  verified: number;
  firstError?: string;
}

export interface BlobResult {
  kind: 'blob';
  streams: number;
  bytes: number;
  elapsedMs: number;
  mbps: number;
  perStreamMs: number[];
  verified: number;
}

export interface PullsResult {
  kind: 'pulls';
  pulls: number;
  failed: number;
  firstError?: string;
  bytes: number;
  elapsedMs: number;
  verifiedBlobs: number;
}

type ResultOf<J extends LoadJob> = J['kind'] extends 'latency'
  ? LatencyResult
  : J['kind'] extends 'throughput'
    ? ThroughputResult
    : J['kind'] extends 'blob'
      ? BlobResult
      : PullsResult;

/** Runs one job in a fresh `node --import tsx bench/load.ts` process and returns its JSON answer. */
export function runLoad<J extends LoadJob>(
  repoRoot: string,
  job: J,
  timeoutMs = 180_000,
): Promise<ResultOf<J>> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(repoRoot, 'bench', 'load.ts'), JSON.stringify(job)],
      {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: timeoutMs,
        killSignal: 'SIGKILL',
      },
    );
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const stdout = Buffer.concat(out).toString('utf8').trim();
      if (code !== 0) {
        const why = signal === null ? `exit ${code}` : `signal ${signal}`;
        reject(
          new Error(`load ${job.kind} ${job.origin}: ${why}: ${Buffer.concat(err).toString('utf8').trim()}`),
        );
        return;
      }
      try {
        resolve(JSON.parse(stdout.split('\n').pop() ?? '') as ResultOf<J>);
      } catch {
        reject(new Error(`load ${job.kind}: unreadable answer ${stdout.slice(0, 200)}`));
      }
    });
  });
}
