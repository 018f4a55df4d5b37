import type { UpstreamRepository } from '../upstream/router.js';

/** One resolution of a tag, as the proxy just learned it (from the upstream, the tag window, or stale). */
export interface TagObservation {
  route: UpstreamRepository;
  /** Repository name as the client wrote it (before routing). */
  name: string;
  tag: string;
  digest: string;
  mediaType: string;
  source: 'upstream' | 'window' | 'stale';
  /** The resolution was asked with index types in Accept (see classifyObservation). */
  acceptsIndex?: boolean;
}

export type TagEvent = 'first-seen' | 'unchanged' | 'moved' | 'pinned';

/** What to serve for a tag after its history and the tag-mutation policy have had their say. */
export type TagDecision =
  | { kind: 'serve'; digest: string; event: TagEvent; alertId?: string; warning?: string }
  | { kind: 'refuse'; event: TagEvent; message: string; alertId?: string };

export interface TagTracker {
  observe(observation: TagObservation, signal: AbortSignal): Promise<TagDecision>;
}

/** Without a store, every resolution is served as the upstream gave it. */
export const untracked: TagTracker = {
  observe: async (o) => ({ kind: 'serve', digest: o.digest, event: 'unchanged' }),
};
