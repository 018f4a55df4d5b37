import { setTimeout as sleep } from 'node:timers/promises';
import type { AccessLogEntry, Registry } from '../../test/helpers/registry.js';

export interface UpstreamCounts {
  total: number;
  manifestGet: number;
  manifestHead: number;
  blobGet: number;
  blobHead: number;
  other: number;
  /** GETs per blob digest. */
  blobGetsByDigest: Record<string, number>;
}

const MANIFEST = /\/manifests\/[^/]+$/;
const BLOB = /\/blobs\/(sha256:[0-9a-f]{64})$/;

export function countEntries(entries: readonly AccessLogEntry[]): UpstreamCounts {
  const c: UpstreamCounts = {
    total: entries.length,
    manifestGet: 0,
    manifestHead: 0,
    blobGet: 0,
    blobHead: 0,
    other: 0,
    blobGetsByDigest: {},
  };
  for (const e of entries) {
    const blob = BLOB.exec(e.path);
    if (MANIFEST.test(e.path) && e.method === 'GET') c.manifestGet++;
    else if (MANIFEST.test(e.path) && e.method === 'HEAD') c.manifestHead++;
    else if (blob?.[1] !== undefined && e.method === 'GET') {
      c.blobGet++;
      c.blobGetsByDigest[blob[1]] = (c.blobGetsByDigest[blob[1]] ?? 0) + 1;
    } else if (blob !== null && e.method === 'HEAD') c.blobHead++;
    else c.other++;
  }
  return c;
}

/**
 * Marks the upstream's access log now; `since()` waits until the log stops growing (lines land just after
 * each response) and counts what came after the mark.
 */
export async function markAccessLog(upstream: Registry): Promise<{ since(): Promise<UpstreamCounts> }> {
  const start = (await upstream.accessLog()).length;
  return {
    since: async () => {
      let last = -1;
      let entries: AccessLogEntry[] = [];
      for (let stable = 0; stable < 3; ) {
        await sleep(150);
        entries = await upstream.accessLog();
        stable = entries.length === last ? stable + 1 : 0;
        last = entries.length;
      }
      return countEntries(entries.slice(start));
    },
  };
}
