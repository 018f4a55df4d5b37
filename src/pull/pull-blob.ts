import type { Digest } from '../oci/digest.js';
import type { UpstreamRepository } from '../upstream/router.js';
import type { BlobAnswer, BlobService } from './blob-service.js';
import { BlobRefusedError } from './errors.js';
import type { DecisionRecorder } from './record-decision.js';

export interface BlobPull {
  requestId: string;
  route: UpstreamRepository;
  digest: Digest;
  /** The client's Range header, as sent. */
  range: string | undefined;
  client: { address: string; user: string | undefined; userAgent: string | undefined };
  signal: AbortSignal;
}

/**
 * A blob GET: served from the cache or filled from the upstream (verified on the way), unless it may be an image
 * config this client may not have (issue 10, path 1). A refusal is a decision like any other: on the record
 * before the client hears of it.
 */
export async function pullBlob(
  deps: { blobs: BlobService; recorder: DecisionRecorder },
  pull: BlobPull,
): Promise<BlobAnswer> {
  const started = performance.now();
  try {
    return await deps.blobs.get(pull.route, pull.digest, pull.range, pull.signal, {
      address: pull.client.address,
      user: pull.client.user,
    });
  } catch (err) {
    if (err instanceof BlobRefusedError) {
      await deps.recorder.record({
        requestId: pull.requestId,
        client: pull.client,
        method: 'GET',
        upstream: pull.route.upstream.host,
        repository: pull.route.repository,
        reference: pull.digest.value,
        digest: pull.digest.value,
        verdict: {
          kind: 'deny',
          message: err.verdict.message,
          findings: err.verdict.findings.map((f) => ({ ...f, mode: 'enforce' as const })),
          policy: {
            version: err.verdict.policyVersion,
            names: err.verdict.policyNames,
            exceptionsApplied: [],
            exceptionsExpired: [],
            waived: [],
            cached: false,
          },
        },
        tagEvent: undefined,
        source: err.source,
        status: 403,
        durationMs: performance.now() - started,
      });
    }
    throw err;
  }
}
