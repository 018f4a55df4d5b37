import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AuditInput, AuditSink } from '../../../src/audit/index.js';
import type { FetchedManifest, TagResolution } from '../../../src/cache/manifest-service.js';
import { requireDigest } from '../../../src/oci/digest.js';
import { mediaType } from '../../../src/oci/media-types.js';
import {
  type ManifestPull,
  type PullManifestDependencies,
  pullManifest,
} from '../../../src/pull/pull-manifest.js';
import { DecisionRecorder } from '../../../src/pull/record-decision.js';
import type { ManifestGate, Verdict } from '../../../src/pull/verdict.js';
import type { TagDecision, TagTracker } from '../../../src/tags/tracker.js';
import type { UpstreamClient } from '../../../src/upstream/client.js';

// The use case alone, over in-memory ports: what it serves, refuses and records, in which order.
const bytes = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}');
const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const manifest: FetchedManifest = { digest, mediaType: mediaType.ociManifest, bytes, source: 'upstream' };
const route = {
  upstream: { host: 'registry.test', name: 'registry.test' } as UpstreamClient,
  repository: 'app',
};

class MemoryLog implements AuditSink {
  readonly enabled = true;
  readonly records: AuditInput[] = [];
  failing = false;
  async append(input: AuditInput) {
    if (this.failing) throw Object.assign(new Error('disk full'), { code: 'ENOSPC' });
    this.records.push(input);
    return undefined;
  }
  async health() {
    return { ok: true };
  }
  checkpoint() {
    return undefined;
  }
  async close() {}
}

function setup(options: { verdict?: Verdict; tag?: TagDecision; denyOnHead?: boolean } = {}) {
  const log = new MemoryLog();
  const events: string[] = [];
  const gate: ManifestGate = {
    judge: async () => {
      events.push('judge');
      return options.verdict ?? { kind: 'allow', findings: [] };
    },
  };
  const tags: TagTracker = {
    observe: async (o) => options.tag ?? { kind: 'serve', digest: o.digest, event: 'unchanged' },
  };
  const resolution: TagResolution = {
    digest,
    mediaType: mediaType.ociManifest,
    size: bytes.length,
    source: 'upstream',
  };
  const deps: PullManifestDependencies = {
    manifests: {
      resolveTag: async () => resolution,
      getByDigest: async () => {
        events.push('fetch');
        return manifest;
      },
    },
    gate: () => gate,
    tags,
    recorder: new DecisionRecorder({
      audit: log,
      onRecorded: () => events.push('recorded'),
      onError: () => undefined,
    }),
    storeName: 'sqlite test',
    denyOnHead: options.denyOnHead ?? false,
  };
  return { deps, log, events };
}

function pull(method: 'GET' | 'HEAD' = 'GET'): ManifestPull {
  return {
    requestId: 'req-1',
    route,
    name: 'app',
    reference: { kind: 'tag', tag: 'latest' },
    method,
    accept: undefined,
    client: { address: '127.0.0.1', user: undefined, userAgent: 'test' },
    signal: new AbortController().signal,
    log: { error: () => undefined } as unknown as ManifestPull['log'],
  };
}

const deny: Verdict = {
  kind: 'deny',
  message: 'the image runs as root',
  findings: [{ rule: 'run-as-root', message: 'the image runs as root', mode: 'enforce' }],
};

describe('pullManifest', () => {
  it('serves an allowed manifest only after its decision is recorded', async () => {
    const { deps, log, events } = setup();
    const result = await pullManifest(deps, pull());
    expect(result).toMatchObject({ kind: 'serve', manifest: { digest } });
    expect(events).toEqual(['fetch', 'judge', 'recorded']);
    expect(log.records).toHaveLength(1);
    expect(log.records[0]).toMatchObject({ type: 'decision', decision: 'allow', digest, status: 200 });
  });

  it('refuses a denied manifest with its findings, recorded as a 403', async () => {
    const { deps, log } = setup({ verdict: deny });
    const result = await pullManifest(deps, pull());
    expect(result).toEqual({
      kind: 'refused',
      message: 'the image runs as root',
      reference: 'latest',
      digest,
      findings: [{ rule: 'run-as-root' }],
    });
    expect(log.records[0]).toMatchObject({ decision: 'deny', status: 403 });
  });

  it('answers a HEAD of a denied manifest with its headers and leaves the refusal to the GET', async () => {
    const { deps, log } = setup({ verdict: deny });
    const result = await pullManifest(deps, pull('HEAD'));
    expect(result).toMatchObject({ kind: 'refuse-on-get', message: 'the image runs as root' });
    expect(log.records[0]).toMatchObject({ method: 'HEAD', decision: 'deny', status: 200 });
  });

  it('refuses a HEAD of a denied manifest outright with PULLGATE_DENY_ON_HEAD', async () => {
    const { deps } = setup({ verdict: deny, denyOnHead: true });
    expect((await pullManifest(deps, pull('HEAD'))).kind).toBe('refused');
  });

  it('refuses a tag the tag history refuses without fetching or judging its manifest', async () => {
    const { deps, log, events } = setup({
      tag: { kind: 'refuse', event: 'moved', message: 'tag moved; awaiting review' },
    });
    const result = await pullManifest(deps, pull());
    expect(result).toMatchObject({ kind: 'refused', message: 'tag moved; awaiting review' });
    expect(events).toEqual(['recorded']);
    expect(log.records[0]).toMatchObject({ tag: { event: 'moved' }, findings: [{ rule: 'tag-mutation' }] });
  });

  it('serves the pinned digest the tag history names, not the one the upstream answered', async () => {
    const pinned = requireDigest(`sha256:${'a'.repeat(64)}`);
    const { deps } = setup({ tag: { kind: 'serve', digest: pinned.value, event: 'pinned' } });
    let asked: string | undefined;
    deps.manifests.getByDigest = async (_route, d) => {
      asked = d.value;
      return manifest;
    };
    await pullManifest(deps, pull());
    expect(asked).toBe(pinned.value);
  });

  it('serves nothing when the decision cannot be recorded: a 503 naming the log', async () => {
    const { deps, log } = setup();
    log.failing = true;
    await expect(pullManifest(deps, pull())).rejects.toMatchObject({
      missing: 'decision-log',
      message: expect.stringContaining('ENOSPC'),
    });
  });

  it('is a 503 naming the store when the tag history cannot be read, never an unpinned serve', async () => {
    const { deps, log } = setup();
    deps.tags = {
      observe: async () => {
        throw new Error('connection refused');
      },
    };
    await expect(pullManifest(deps, pull())).rejects.toMatchObject({
      missing: 'tag-history',
      message: expect.stringContaining('sqlite test'),
    });
    expect(log.records).toHaveLength(0);
  });
});
