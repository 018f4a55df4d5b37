import type { ManifestBytes } from '../oci/manifest.js';
import type { Reference } from '../oci/reference.js';
import type { UpstreamRepository } from '../upstream/router.js';

export interface GateFinding {
  rule: string;
  key?: string;
  message: string;
  /** enforce: refused for it; audit: served with a warning. */
  mode?: 'enforce' | 'audit';
  /** What the detector matched (e.g. 'aws-secret-access-key'); never the value. */
  kind?: string;
  /** For an index: the platform (`linux/arm64`) whose image manifest the finding is about. */
  platform?: string;
  /** The policy whose setting gave the rule its mode. */
  policy?: string;
}

/** An exception as recorded with a decision. */
export interface VerdictException {
  policy: string;
  index: number;
  rules: string[];
  reason: string;
  owner: string;
  expires: string;
}

/** Which policies judged a manifest, for the decision record. */
export interface VerdictPolicy {
  version: string;
  names: string[];
  exceptionsApplied: VerdictException[];
  exceptionsExpired: VerdictException[];
  /** Findings an exception waived. */
  waived: GateFinding[];
  /** True when the verdict came from the decision cache. */
  cached: boolean;
}

/** What the policy engine says about a manifest about to be served. */
export type Verdict =
  | { kind: 'allow'; findings: GateFinding[]; policy?: VerdictPolicy }
  | { kind: 'warn'; findings: GateFinding[]; warnings: string[]; policy?: VerdictPolicy }
  | { kind: 'deny'; findings: GateFinding[]; message: string; policy?: VerdictPolicy };

export interface GateInput {
  route: UpstreamRepository;
  /** The repository name as the client wrote it. */
  name: string;
  reference: Reference;
  manifest: ManifestBytes;
  client: { address: string; user: string | undefined; userAgent: string | undefined };
  /** The client's request method; absent for pullgate's own lookups. */
  method?: 'GET' | 'HEAD';
  signal: AbortSignal;
}

export interface ManifestGate {
  judge(input: GateInput): Promise<Verdict>;
}

export const allowAll: ManifestGate = {
  judge: async () => ({ kind: 'allow', findings: [] }),
};
