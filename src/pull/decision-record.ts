import type { DecisionInput, ExceptionInput } from '../audit/index.js';
import type { TagEvent } from '../tags/tracker.js';
import type { GateFinding, Verdict, VerdictException } from './verdict.js';

// The audit log's schema holds variable names only; anything else in `key` (e.g. `Env[3]` for a malformed entry)
// is left out rather than letting the whole record fail.
const variableName = /^[A-Za-z_][A-Za-z0-9_.-]{0,255}$/;

export interface DecisionFacts {
  requestId: string;
  client: { address: string; userAgent: string | undefined; user: string | undefined };
  method: 'GET' | 'HEAD';
  upstream: string;
  repository: string;
  reference: string;
  digest: string | undefined;
  verdict: Verdict;
  tagEvent: TagEvent | undefined;
  source: 'cache' | 'upstream' | 'stale';
  status: number;
  durationMs: number;
}

function finding(f: GateFinding): DecisionInput['findings'][number] {
  return {
    rule: f.rule,
    ...(f.key !== undefined && variableName.test(f.key) ? { key: f.key } : {}),
    message: f.message.slice(0, 1000),
    ...(f.mode !== undefined ? { mode: f.mode } : {}),
    ...(f.platform !== undefined ? { platform: f.platform.slice(0, 100) } : {}),
  };
}

export function policyRef(verdict: Verdict): { name: string; version: string } {
  const names = verdict.policy?.names ?? [];
  return {
    name: (names.length > 0 ? names.join(',') : 'none').slice(0, 200),
    version: (verdict.policy?.version ?? 'none').slice(0, 200),
  };
}

export function decisionRecord(facts: DecisionFacts): DecisionInput {
  return {
    type: 'decision',
    requestId: facts.requestId,
    client: {
      address: facts.client.address || 'unknown',
      ...(facts.client.userAgent ? { userAgent: facts.client.userAgent.slice(0, 500) } : {}),
      ...(facts.client.user ? { user: facts.client.user.slice(0, 200) } : {}),
    },
    method: facts.method,
    upstream: facts.upstream,
    repository: facts.repository,
    reference: facts.reference,
    ...(facts.digest !== undefined ? { digest: facts.digest } : {}),
    decision: facts.verdict.kind,
    decisionSource: facts.verdict.policy?.cached === true ? 'cache' : 'fresh',
    findings: facts.verdict.findings.slice(0, 256).map(finding),
    policy: policyRef(facts.verdict),
    ...(facts.tagEvent !== undefined ? { tag: { event: facts.tagEvent } } : {}),
    source: facts.source,
    status: facts.status,
    durationMs: Math.round(facts.durationMs * 1000) / 1000,
  };
}

export function exceptionRecords(facts: DecisionFacts): ExceptionInput[] {
  const policy = facts.verdict.policy;
  if (policy === undefined) return [];
  const ref = { name: policyRef(facts.verdict).name, version: policy.version.slice(0, 200) };
  const record = (event: 'applied' | 'expired', e: VerdictException): ExceptionInput => {
    const expires = new Date(e.expires);
    return {
      type: 'exception',
      event,
      exceptionId: `${e.policy}#${e.index}`.slice(0, 200),
      policy: ref,
      ...(e.rules.length === 1 && e.rules[0] !== undefined ? { rule: e.rules[0] } : {}),
      owner: e.owner.slice(0, 200) || 'unknown',
      reason: e.reason.slice(0, 2000),
      ...(Number.isNaN(expires.getTime()) ? {} : { expires: expires.toISOString() }),
      requestId: facts.requestId,
      repository: facts.repository,
      ...(facts.digest !== undefined ? { digest: facts.digest } : {}),
    };
  };
  return [
    ...policy.exceptionsApplied.map((e) => record('applied', e)),
    ...policy.exceptionsExpired.map((e) => record('expired', e)),
  ];
}
