import type { Reference } from '../oci/reference.js';
import type { Route } from '../upstream/router.js';
import type { ManifestBytes } from './manifest-service.js';

export interface GateFinding {
  rule: string;
  key?: string;
  message: string;
}

/** What the policy engine says about a manifest about to be served. */
export type Verdict =
  | { kind: 'allow'; findings: GateFinding[] }
  | { kind: 'warn'; findings: GateFinding[]; warnings: string[] }
  | { kind: 'deny'; findings: GateFinding[]; message: string };

export interface GateInput {
  route: Route;
  /** The repository name as the client wrote it. */
  name: string;
  reference: Reference;
  manifest: ManifestBytes;
  client: { address: string; user: string | undefined; userAgent: string | undefined };
  signal: AbortSignal;
}

export interface ManifestGate {
  judge(input: GateInput): Promise<Verdict>;
  /** Digests of image configs refused by policy: never served as blobs and never cached on disk. */
  isRefusedConfig?(digest: string): boolean;
}

export const allowAll: ManifestGate = {
  judge: async () => ({ kind: 'allow', findings: [] }),
};
