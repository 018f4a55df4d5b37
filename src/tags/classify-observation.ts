import type { ManifestKind } from '../store/schema.js';

export interface KnownDigest {
  digest: string;
  kind: ManifestKind;
}

/** What pullgate knows about a tag before this observation: the approved digest of each kind it has seen. */
export interface TagView {
  approved: readonly KnownDigest[];
  /** Platform manifests of the approved index, when there is one. */
  approvedIndexChildren: ReadonlySet<string>;
}

export type ObservationClass =
  | { kind: 'first-seen' }
  | { kind: 'unchanged'; via: 'same-digest' | 'index-child' | 'index-parent' }
  | { kind: 'moved'; from: KnownDigest; to: KnownDigest; kindChanged: boolean };

/**
 * Pure: classifies a resolution against the approved digests. Like is compared with like: an index digest
 * with the approved index, a single manifest with the approved single manifest, because one tag answers both
 * kinds depending on the client's Accept. A platform manifest that the approved index lists is the same image
 * for an older client, not a move (and an index listing the approved single manifest is its newer view). A tag that only ever answered one kind and now answers the other has
 * honestly changed (an index replaced by a single image, or the reverse) and is reported as such.
 */
export function classifyObservation(
  view: TagView,
  observed: KnownDigest,
  /** Platform manifests of the observed digest, when it is an index. */
  observedChildren: ReadonlySet<string> = new Set(),
  /**
   * Whether the request that resolved the tag accepted index types. Only a client that did not could be
   * answered one platform of the approved index; one that did, and got a single manifest, saw the index
   * replaced (a platform dropped), which is a move.
   */
  acceptsIndex = false,
): ObservationClass {
  if (observed.kind === 'manifest' && !acceptsIndex && view.approvedIndexChildren.has(observed.digest)) {
    return { kind: 'unchanged', via: 'index-child' };
  }
  const same = view.approved.find((a) => a.kind === observed.kind);
  if (same !== undefined) {
    return same.digest === observed.digest
      ? { kind: 'unchanged', via: 'same-digest' }
      : { kind: 'moved', from: same, to: observed, kindChanged: false };
  }
  const other = view.approved[0];
  if (other === undefined) return { kind: 'first-seen' };
  if (observed.kind === 'index' && other.kind === 'manifest' && observedChildren.has(other.digest)) {
    return { kind: 'unchanged', via: 'index-parent' };
  }
  return { kind: 'moved', from: other, to: observed, kindChanged: true };
}
