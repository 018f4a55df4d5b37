import type { ManifestService } from '../cache/manifest-service.js';
import { parseDigest } from '../oci/digest.js';
import { defaultManifestAccept } from '../oci/media-types.js';
import type { UpstreamRepository } from '../upstream/router.js';
import type { ManifestGate } from './verdict.js';

/** A tag-mutation alert's summary of what the policies say about the tag's new digest. */
export interface DigestJudgement {
  decision: 'allow' | 'warn' | 'deny';
  findings: { rule: string; key: string | undefined }[];
}

/**
 * What the gate in force says about one digest, judged as pullgate's own lookup (no client, no tag): recorded on a
 * tag-mutation alert so a reviewer sees it before approving. Undefined for a digest that does not parse.
 */
export async function judgeDigest(
  deps: { manifests: Pick<ManifestService, 'getByDigest'>; gate: () => ManifestGate },
  route: UpstreamRepository,
  digest: string,
  signal: AbortSignal,
): Promise<DigestJudgement | undefined> {
  const parsed = parseDigest(digest);
  if (parsed === undefined) return undefined;
  const manifest = await deps.manifests.getByDigest(route, parsed, defaultManifestAccept, signal);
  const verdict = await deps.gate().judge({
    route,
    name: route.repository,
    reference: { kind: 'digest', digest: parsed },
    manifest,
    client: { address: 'pullgate', user: undefined, userAgent: undefined },
    signal,
  });
  return { decision: verdict.kind, findings: verdict.findings.map((f) => ({ rule: f.rule, key: f.key })) };
}
