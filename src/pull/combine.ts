import type { Decision, DecisionFinding } from '../policy/evaluate.js';
import { decisionOf } from '../policy/evaluate.js';
import type { ExceptionRef } from '../policy/exceptions.js';
import type { GateFinding } from './verdict.js';

/** What several decisions come to together, with the platform each finding is about. */
export interface CombinedDecisions {
  decision: Decision['decision'];
  findings: GateFinding[];
  waived: GateFinding[];
  exceptionsApplied: ExceptionRef[];
  exceptionsExpired: ExceptionRef[];
  policyNames: string[];
}

/**
 * Decisions added together (an index's platforms; an image's decision and its pull rules'): refused if any part
 * refuses, every finding kept with its platform, each exception and policy named once. `start` is a combination
 * the parts are added to.
 */
export function combineDecisions(
  parts: readonly { decision: Decision; platform?: string | undefined }[],
  start?: Omit<CombinedDecisions, 'decision'>,
): CombinedDecisions {
  const findings = [...(start?.findings ?? [])];
  const waived = [...(start?.waived ?? [])];
  const applied = new Map((start?.exceptionsApplied ?? []).map((e) => [refId(e), e]));
  const expired = new Map((start?.exceptionsExpired ?? []).map((e) => [refId(e), e]));
  const names = new Set(start?.policyNames ?? []);
  for (const { decision, platform } of parts) {
    for (const f of decision.findings) {
      findings.push(gateFinding(f, platform));
      if (f.expiredException !== undefined) expired.set(refId(f.expiredException), f.expiredException);
    }
    for (const f of decision.waived) {
      waived.push({
        rule: f.rule,
        ...(f.key === undefined ? {} : { key: f.key }),
        message: f.message,
        ...(platform === undefined ? {} : { platform }),
        policy: f.exception.policy,
      });
    }
    for (const e of decision.exceptionsApplied) applied.set(refId(e), e);
    for (const e of decision.exceptionsExpired) expired.set(refId(e), e);
    for (const n of decision.policyNames) names.add(n);
  }
  return {
    decision: decisionOf(findings.map((f) => ({ mode: f.mode ?? 'enforce' }))),
    findings,
    waived,
    exceptionsApplied: [...applied.values()],
    exceptionsExpired: [...expired.values()],
    policyNames: [...names],
  };
}

export function gateFinding(f: DecisionFinding, platform?: string): GateFinding {
  return {
    rule: f.rule,
    ...(f.key === undefined ? {} : { key: f.key }),
    message: f.message,
    mode: f.mode,
    ...(f.kind === undefined ? {} : { kind: f.kind }),
    ...(platform === undefined ? {} : { platform }),
    policy: f.policy,
  };
}

function refId(e: ExceptionRef): string {
  return `${e.policy}#${e.index}`;
}
