import type { Finding } from '../finding.js';

// OCI image-spec annotations.md, "Pre-Defined Annotation Keys": the image this one was built on. BuildKit writes
// them on the image manifest (and the index descriptor); some builders write them as config labels instead.
export const BASE_NAME = 'org.opencontainers.image.base.name';
export const BASE_DIGEST = 'org.opencontainers.image.base.digest';

/** The base an image declares: its reference (`docker.io/library/python:3.12-slim`) and the digest built on. */
export type DeclaredBase = { name: string; digest: string };

type Annotations = Readonly<Record<string, string>> | undefined;

/**
 * The declared base, read from the image manifest's annotations, else the index descriptor's, else the config
 * labels; each source must carry both keys. Undefined when the image declares no base (nothing to check).
 */
export function declaredBase(...sources: Annotations[]): DeclaredBase | undefined {
  for (const source of sources) {
    const name = source?.[BASE_NAME]?.trim();
    const digest = source?.[BASE_DIGEST]?.trim();
    if (name && digest) return { name, digest };
  }
  return undefined;
}

/** What pullgate knows of the base tag now, fetched before evaluation (src/pull/pull-facts.ts). */
export type BaseState =
  | {
      kind: 'known';
      /** The digest the base tag points to now. */
      digest: string;
      /**
       * Digests that count as the same base: its platform manifests when it is an index (an image built on one
       * platform of it is current), or the index a platform manifest belongs to.
       */
      children: readonly string[];
      /** When pullgate first saw the tag point there; absent when only the upstream said so. */
      firstSeen?: string | undefined;
      source: 'history' | 'upstream';
    }
  /** The base is pinned by digest only (no tag to move). */
  | { kind: 'untagged' }
  /** pullgate cannot tell: no history of the tag and no upstream answer, or a registry it does not proxy. */
  | { kind: 'unknown'; why: string };

export type BaseFacts = DeclaredBase & { state: BaseState };

export type StaleBaseOptions = {
  /** A base that cannot be looked up refuses under enforce (true) or only warns (the policy's failClosed). */
  failClosed: boolean;
};

/**
 * "Rebuild against an updated base image": an image whose declared base tag has since moved to another digest
 * was built on an old base. A base pullgate cannot look up is "not checked", fail-closed per policy like a config
 * that cannot be fetched.
 */
export function staleBase(base: BaseFacts | undefined, options: StaleBaseOptions): Finding[] {
  if (base === undefined) return [];
  const state = base.state;
  switch (state.kind) {
    case 'untagged':
      return [];
    case 'unknown':
      return [
        {
          rule: 'stale-base',
          kind: 'base-unknown',
          message: `stale-base: not checked, ${state.why} (base ${base.name})${options.failClosed ? ' (fail-closed)' : ''}`,
          ...(options.failClosed ? {} : { warnOnly: true }),
        },
      ];
    case 'known': {
      if (state.digest === base.digest || state.children.includes(base.digest)) return [];
      const seen =
        state.firstSeen === undefined
          ? 'as the upstream answers now'
          : `first seen ${state.firstSeen.slice(0, 19).replace('T', ' ')}Z`;
      return [
        {
          rule: 'stale-base',
          kind: 'base-moved',
          message: `stale-base: built on ${base.name}@${base.digest}; that tag now points to ${state.digest} (${seen})`,
        },
      ];
    }
  }
}
