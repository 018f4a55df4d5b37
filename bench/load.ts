/**
 * The load generator, run as its own process (`node --import tsx bench/load.ts '<job json>'`) so it never
 * shares an event loop with what it measures. Prints one JSON result on stdout. Only 127.0.0.1 origins,
 * bounded by count and by time. Every answer is checked: a digest that does not match fails the job, so a
 * broken proxy cannot look fast.
 */
import { createHash } from 'node:crypto';
import { Pool } from 'undici';
import type { BlobResult, LatencyResult, LoadJob, PullsResult, ThroughputResult } from './lib/jobs.js';

function assertLoopback(origin: string): void {
  const u = new URL(origin);
  if (u.hostname !== '127.0.0.1') throw new Error(`load generator only targets 127.0.0.1, not ${u.hostname}`);
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? Number.NaN;
}

function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

function headerValue(h: string | string[] | undefined): string | undefined {
  return Array.isArray(h) ? h[0] : h;
}

interface Answer {
  status: number;
  digestHeader: string | undefined;
  bytes: number;
  /** sha256 of the body, when asked for. */
  digest: string | undefined;
  body: Buffer | undefined;
}

async function fetchOne(
  pool: Pool,
  path: string,
  method: 'GET' | 'HEAD',
  headers: Record<string, string>,
  opts: { hash: boolean; keep: boolean },
): Promise<Answer> {
  // reset: false — undici closes the connection after every HEAD unless told not to (client-h1.js, undici#258);
  // pull clients (containerd, docker, skopeo: Go net/http) keep it alive, so a HEAD benchmark must too.
  const res = await pool.request({ path, method, headers, reset: false });
  const hash = opts.hash ? createHash('sha256') : undefined;
  const kept: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of res.body) {
    const b = chunk as Buffer;
    bytes += b.length;
    hash?.update(b);
    if (opts.keep) kept.push(b);
  }
  return {
    status: res.statusCode,
    digestHeader: headerValue(res.headers['docker-content-digest']),
    bytes,
    digest: hash === undefined ? undefined : `sha256:${hash.digest('hex')}`,
    body: opts.keep ? Buffer.concat(kept) : undefined,
  };
}

function check(answer: Answer, expectDigest: string, what: string): void {
  if (answer.status !== 200) throw new Error(`${what}: status ${answer.status}`);
  if (answer.digestHeader !== undefined && answer.digestHeader !== expectDigest) {
    throw new Error(`${what}: Docker-Content-Digest ${answer.digestHeader}, expected ${expectDigest}`);
  }
  if (answer.digest !== undefined && answer.digest !== expectDigest) {
    throw new Error(`${what}: body hashes to ${answer.digest}, expected ${expectDigest}`);
  }
}

async function latency(job: Extract<LoadJob, { kind: 'latency' }>): Promise<LatencyResult> {
  const pool = new Pool(job.origin, { connections: 1, pipelining: 1 });
  try {
    const times: number[] = [];
    const deadline = Date.now() + job.maxMs;
    for (let i = 0; i < job.warmup + job.count && Date.now() < deadline; i++) {
      const t0 = nowMs();
      // Hash every body: sequential requests are few, and the hash is outside the timed section below.
      const a = await fetchOne(pool, job.path, job.method, job.headers, { hash: false, keep: true });
      const t1 = nowMs();
      if (job.method === 'GET' && a.body !== undefined) {
        a.digest = `sha256:${createHash('sha256').update(a.body).digest('hex')}`;
      }
      check(a, job.expectDigest, `${job.method} ${job.path}`);
      if (i >= job.warmup) times.push(t1 - t0);
    }
    times.sort((x, y) => x - y);
    return {
      kind: 'latency',
      count: times.length,
      p50Ms: percentile(times, 50),
      p99Ms: percentile(times, 99),
      meanMs: times.reduce((s, t) => s + t, 0) / Math.max(1, times.length),
    };
  } finally {
    await pool.close();
  }
}

async function throughput(job: Extract<LoadJob, { kind: 'throughput' }>): Promise<ThroughputResult> {
  const pool = new Pool(job.origin, { connections: job.connections, pipelining: 1 });
  try {
    // Open every connection before the clock starts.
    await Promise.all(
      Array.from({ length: job.connections }, async () => {
        const a = await fetchOne(pool, job.path, job.method, job.headers, { hash: false, keep: false });
        check(a, job.expectDigest, `${job.method} ${job.path}`);
      }),
    );
    let issued = 0;
    let done = 0;
    let verified = 0;
    let errors = 0;
    let firstError: string | undefined;
    const t0 = nowMs();
    const deadline = t0 + job.durationMs;
    const worker = async () => {
      while (issued < job.maxRequests && nowMs() < deadline) {
        const n = issued++;
        const hash = job.method === 'GET' && n % job.verifyEvery === 0;
        try {
          const a = await fetchOne(pool, job.path, job.method, job.headers, { hash, keep: false });
          check(a, job.expectDigest, `${job.method} ${job.path}`);
          if (hash) verified++;
          done++;
        } catch (e) {
          errors++;
          firstError ??= e instanceof Error ? e.message : String(e);
        }
      }
    };
    await Promise.all(Array.from({ length: job.connections }, worker));
    const elapsedMs = nowMs() - t0;
    if (firstError !== undefined && errors * 100 > issued) {
      throw new Error(`${errors} of ${issued} requests failed, first: ${firstError}`);
    }
    return {
      kind: 'throughput',
      requests: done,
      errors,
      elapsedMs,
      rps: (done * 1000) / elapsedMs,
      verified,
      ...(firstError === undefined ? {} : { firstError }),
    };
  } finally {
    await pool.close();
  }
}

async function blob(job: Extract<LoadJob, { kind: 'blob' }>): Promise<BlobResult> {
  const pool = new Pool(job.origin, { connections: job.streams, pipelining: 1 });
  try {
    const t0 = nowMs();
    const perStreamMs: number[] = [];
    let verified = 0;
    await Promise.all(
      Array.from({ length: job.streams }, async (_, i) => {
        const s0 = nowMs();
        const hash = job.verify === 'all' || i === 0;
        const a = await fetchOne(pool, job.path, 'GET', {}, { hash, keep: false });
        perStreamMs.push(nowMs() - s0);
        check(a, job.expectDigest, `GET ${job.path} (stream ${i})`);
        if (a.bytes !== job.size) throw new Error(`stream ${i}: ${a.bytes} bytes, expected ${job.size}`);
        if (hash) verified++;
      }),
    );
    const elapsedMs = nowMs() - t0;
    const bytes = job.size * job.streams;
    return {
      kind: 'blob',
      streams: job.streams,
      bytes,
      elapsedMs,
      mbps: bytes / 1e6 / (elapsedMs / 1000),
      perStreamMs,
      verified,
    };
  } finally {
    await pool.close();
  }
}

interface Descriptor {
  digest: string;
  size: number;
}

/** One image pull as a client does it: the manifest by tag, then its config and layers, all verified. */
async function pulls(job: Extract<LoadJob, { kind: 'pulls' }>): Promise<PullsResult> {
  const pool = new Pool(job.origin, { connections: job.connections, pipelining: 1 });
  try {
    let bytes = 0;
    let verifiedBlobs = 0;
    let next = 0;
    const t0 = nowMs();
    const one = async () => {
      const m = await fetchOne(
        pool,
        `/v2/${job.repo}/manifests/${job.tag}`,
        'GET',
        { accept: job.accept },
        { hash: true, keep: true },
      );
      check(m, job.expectManifestDigest, `manifest ${job.repo}:${job.tag}`);
      const parsed = JSON.parse((m.body ?? Buffer.alloc(0)).toString('utf8')) as {
        config: Descriptor;
        layers: Descriptor[];
      };
      await Promise.all(
        [parsed.config, ...parsed.layers].map(async (d) => {
          const b = await fetchOne(
            pool,
            `/v2/${job.repo}/blobs/${d.digest}`,
            'GET',
            {},
            {
              hash: true,
              keep: false,
            },
          );
          check(b, d.digest, `blob ${d.digest}`);
          if (b.bytes !== d.size) throw new Error(`blob ${d.digest}: ${b.bytes} bytes, expected ${d.size}`);
          bytes += b.bytes;
          verifiedBlobs++;
        }),
      );
    };
    let failed = 0;
    let firstError: string | undefined;
    const worker = async () => {
      while (next < job.count) {
        next++;
        try {
          await one();
        } catch (e) {
          // A digest mismatch is never tolerated: it means wrong bytes, not a busy peer.
          if (!job.tolerateErrors || (e instanceof Error && e.message.includes('hashes to'))) throw e;
          failed++;
          firstError ??= e instanceof Error ? e.message : String(e);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(job.concurrency, job.count) }, worker));
    return {
      kind: 'pulls',
      pulls: job.count,
      failed,
      bytes,
      elapsedMs: nowMs() - t0,
      verifiedBlobs,
      ...(firstError === undefined ? {} : { firstError }),
    };
  } finally {
    await pool.close();
  }
}

async function main(): Promise<void> {
  const arg = process.argv[2];
  if (arg === undefined) throw new Error('usage: load.ts <job json>');
  const job = JSON.parse(arg) as LoadJob;
  assertLoopback(job.origin);
  let result: LatencyResult | ThroughputResult | BlobResult | PullsResult;
  switch (job.kind) {
    case 'latency':
      result = await latency(job);
      break;
    case 'throughput':
      result = await throughput(job);
      break;
    case 'blob':
      result = await blob(job);
      break;
    case 'pulls':
      result = await pulls(job);
      break;
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`load: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
