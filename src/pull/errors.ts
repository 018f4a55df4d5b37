import type { Digest } from '../oci/digest.js';
import type { ScreenVerdict } from './config-screen.js';

/**
 * Why a pull could not be answered, as the use cases say it; the route's error handler turns each into the OCI
 * envelope (registry-error-handler.ts). Every one is a refusal to serve, never a reason to serve unjudged.
 */
export class PullUnavailableError extends Error {
  constructor(
    /** What was missing: the decision log (nothing is served unrecorded) or the tag history's store. */
    readonly missing: 'decision-log' | 'tag-history',
    message: string,
    readonly detail?: Record<string, string>,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'PullUnavailableError';
  }
}

/** The upstream named a digest pullgate cannot parse for a tag: nothing to fetch, judge or serve. */
export class InvalidUpstreamDigestError extends Error {
  constructor() {
    super('upstream answered with an invalid digest');
    this.name = 'InvalidUpstreamDigestError';
  }
}

/** A Range a client asked for lies outside the blob: 416, with the blob's size so the client can ask again. */
export class RangeNotSatisfiableError extends Error {
  constructor(readonly size: number) {
    super('requested range not satisfiable');
    this.name = 'RangeNotSatisfiableError';
  }
}

/** A blob the config screen refused, for the client's answer (403 with the findings) and the decision record. */
export class BlobRefusedError extends Error {
  constructor(
    readonly digest: Digest,
    readonly verdict: Extract<ScreenVerdict, { kind: 'refuse' }>,
    /** Where the refused bytes came from, for the decision record. */
    readonly source: 'cache' | 'upstream',
  ) {
    super(verdict.message);
    this.name = 'BlobRefusedError';
  }
}
