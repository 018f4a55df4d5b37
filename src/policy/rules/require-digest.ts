import type { Finding } from '../finding.js';

/** Who approved a digest for a tag and when (tag history); `by` is absent for a digest trusted on first sight. */
export type Approval = { at: string; by?: string | undefined };

/**
 * What the pull asked for, with what pullgate's tag history says about it. Fetched before evaluation
 * (src/pull/pull-facts.ts).
 */
export type ReferenceFacts =
  | {
      kind: 'tag';
      /** The repository as the client named it, so the suggested reference can be pasted back. */
      name: string;
      tag: string;
      /** What pullgate serves for the tag now: the approved digest while the tag is pinned. */
      served: string;
      /** The approval of `served`, when the tag history has one. */
      approval?: Approval | undefined;
      /** The tag is pinned and the upstream points it elsewhere (a change waiting for review). */
      pendingUpstream?: string | undefined;
    }
  | {
      kind: 'digest';
      name: string;
      digest: string;
      /** A reviewer rejected this digest (or the index it belongs to) for a tag of this repository. */
      rejected?:
        | {
            tag: string;
            at: string;
            by: string;
            /** The tag's approved digest, to pull instead. */
            approved: string | undefined;
          }
        | undefined;
      /** The rejection lookup failed (the store is unreachable): why. */
      lookupFailed?: string | undefined;
    };

export type RequireDigestOptions = {
  /** Refuse by digest a digest rejected in review (the policy's `refuseRejected`). */
  refuseRejected: boolean;
  /** A rejection lookup that failed refuses under enforce (true) or only warns (the policy's failClosed). */
  failClosed: boolean;
};

function day(iso: string): string {
  return iso.slice(0, 10);
}

/**
 * Tags are mutable; digests are not (the Dockerfile practice "pin by digest"). A pull by tag is a finding whose
 * message is the fix: the digest to pull instead, and, for a pinned tag, that it is the approved one.
 */
export function requireDigest(facts: ReferenceFacts, options: RequireDigestOptions): Finding[] {
  if (facts.kind === 'tag') {
    const approval =
      facts.approval === undefined
        ? ''
        : ` (approved ${day(facts.approval.at)}${facts.approval.by === undefined ? '' : ` by ${facts.approval.by}`})`;
    const pending =
      facts.pendingUpstream === undefined || facts.pendingUpstream === facts.served
        ? ''
        : `; the tag is pinned: upstream it now points to ${facts.pendingUpstream}, not approved`;
    return [
      {
        rule: 'require-digest',
        kind: 'pulled-by-tag',
        message: `require-digest: pull ${facts.name}@${facts.served} instead of :${facts.tag}${approval}${pending}`,
      },
    ];
  }
  if (!options.refuseRejected) return [];
  if (facts.lookupFailed !== undefined) {
    return [
      {
        rule: 'require-digest',
        kind: 'not-checked',
        message: `require-digest: not checked whether ${facts.digest} was rejected in review, ${facts.lookupFailed}${options.failClosed ? ' (fail-closed)' : ''}`,
        ...(options.failClosed ? {} : { warnOnly: true }),
      },
    ];
  }
  if (facts.rejected === undefined) return [];
  const r = facts.rejected;
  const instead = r.approved === undefined ? '' : `; pull ${facts.name}@${r.approved} instead`;
  return [
    {
      rule: 'require-digest',
      kind: 'rejected-digest',
      message: `require-digest: ${facts.digest} was rejected in review for :${r.tag} (${day(r.at)} by ${r.by})${instead}`,
    },
  ];
}
