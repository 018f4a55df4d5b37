import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { BaseState } from '../policy/rules/index.js';
import { UpstreamError } from '../upstream/errors.js';
import { type CliIo, defaultPolicyDir, processIo } from './io.js';

const usage = `usage: pullgate evaluate (--config FILE|- | IMAGE) [options]

  --config FILE|-       judge one image config JSON (- reads stdin)
  IMAGE                 judge an image in a registry, e.g. 127.0.0.1:5000/library/app:1.0
  --policy DIR          policy directory (default: PULLGATE_POLICY_DIR, else the shipped policies/)
  --insecure            reach IMAGE's registry over plain http
  --repository NAME     repository the policies see for --config (default: none)
  --tag TAG             tag the policies see for --config
  --upstream HOST       upstream the policies see for --config (default docker.io)
  --user NAME           client user the policies see

IMAGE by tag meets require-digest; image-age reads each config's created; stale-base asks each declared
base's registry (one HEAD) what its tag points to now.

Prints one JSON line {"decision","findings":[{"rule","key","message",...}],...}.
Exit 0 allow or warn, 1 deny, 2 bad input. Credentials for IMAGE: PULLGATE_REGISTRY_USERNAME and
PULLGATE_REGISTRY_PASSWORD (anonymous and Bearer-token registries need none).
`;

class BadInput extends Error {}

/** `pullgate evaluate`: one decision as JSON for CI gates. */
export async function runEvaluate(argv: string[], io: CliIo = processIo): Promise<number> {
  let values: ReturnType<typeof parse>['values'];
  let positionals: string[];
  try {
    ({ values, positionals } = parse(argv));
  } catch (err) {
    io.stderr(`pullgate evaluate: ${err instanceof Error ? err.message : String(err)}\n${usage}`);
    return 2;
  }
  if (values.help === true) {
    io.stdout(usage);
    return 0;
  }
  const image = positionals[0];
  if ((values.config === undefined) === (image === undefined) || positionals.length > 1) {
    io.stderr(`pullgate evaluate: give either --config FILE|- or one IMAGE\n${usage}`);
    return 2;
  }
  const policyDir = values.policy ?? defaultPolicyDir(io.env);
  try {
    const [
      { loadPolicies, PolicyLoadError },
      { evaluate, evaluatePull, evaluateUnavailable, decisionOf, resolvePolicies },
      { imageFacts },
      { declaredBase },
    ] = await Promise.all([
      import('../policy/loader/load.js'),
      import('../policy/evaluate.js'),
      import('../policy/facts.js'),
      import('../policy/rules/index.js'),
    ]);
    let set: Awaited<ReturnType<typeof loadPolicies>>;
    try {
      set = await loadPolicies(policyDir);
    } catch (err) {
      if (err instanceof PolicyLoadError) {
        io.stderr(`pullgate evaluate: invalid policies:\n${err.message}\n`);
        return 2;
      }
      throw err;
    }
    const facts = (json: unknown) => {
      try {
        return imageFacts(json);
      } catch {
        throw new BadInput('the input is not an image config (expected an object with config, history, ...)');
      }
    };
    const now = new Date();

    if (values.config !== undefined) {
      const text = await readConfig(values.config, io);
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new BadInput('the image config is not valid JSON');
      }
      const { digestOf } = await import('../oci/digest.js');
      const context = {
        upstream: values.upstream ?? 'docker.io',
        repository: values.repository ?? '',
        tag: values.tag,
        user: values.user,
        address: '',
        digest: digestOf(Buffer.from(text)),
        now,
      };
      const image = evaluate(set, facts(json), context);
      // With --tag the policies see a pull by that tag (require-digest); a config alone has no manifest to name.
      const pull =
        values.tag === undefined
          ? []
          : [
              evaluatePull(
                set,
                {
                  reference: {
                    kind: 'tag',
                    name: values.repository ?? '',
                    tag: values.tag,
                    served: context.digest,
                  },
                },
                context,
              ),
            ];
      const decision = merge(set.version, [image, ...pull], decisionOf);
      io.stdout(`${JSON.stringify(output(decision))}\n`);
      return decision.decision === 'deny' ? 1 : 0;
    }

    const { parseImageReference, fetchImageConfigs, resolveTagNow } = await import('./image-source.js');
    const ref = parseImageReference(image ?? '');
    if (ref === undefined) throw new BadInput(`not an image reference: ${image ?? ''}`);
    const username = io.env.PULLGATE_REGISTRY_USERNAME;
    const password = io.env.PULLGATE_REGISTRY_PASSWORD;
    const access = {
      insecure: values.insecure === true,
      credentials: username && password !== undefined ? { username, password } : undefined,
    };
    let fetched: Awaited<ReturnType<typeof fetchImageConfigs>>;
    try {
      fetched = await fetchImageConfigs(ref, access);
    } catch (err) {
      // A registry on plain HTTP answers the TLS handshake with garbage, which reads as "unreachable".
      const unreachable =
        err instanceof UpstreamError &&
        (err.failure === 'unreachable' || err.failure === 'bad-answer' || err.failure === 'timeout');
      const hint =
        unreachable && values.insecure !== true ? ` (if ${ref.host} serves plain HTTP, add --insecure)` : '';
      throw new BadInput(
        `cannot fetch ${image ?? ''}: ${err instanceof Error ? err.message : String(err)}${hint}`,
      );
    }
    const base = {
      upstream: ref.host,
      repository: ref.repository,
      tag: ref.tag,
      user: values.user,
      address: '',
      digest: fetched.digest,
      now,
    };
    const parts = fetched.images.map((img) => {
      const context = { ...base, platformDigest: img.platformDigest };
      let d: ReturnType<typeof evaluate>;
      let labels: Record<string, string> | undefined;
      if (img.config === undefined) {
        d = evaluateUnavailable(set, context, img.error ?? 'no image config');
      } else {
        let json: unknown;
        try {
          json = JSON.parse(img.config.toString('utf8'));
          const f = facts(json);
          labels = f.labels;
          d = evaluate(set, f, context);
        } catch {
          d = evaluateUnavailable(set, context, 'the image config is not a valid image config');
        }
      }
      return { platform: img.platform, decision: d, base: declaredBase(img.annotations, labels), context };
    });
    // The pull rules: the reference as given, and each declared base asked of its own registry (a HEAD; this
    // command has no tag history).
    const name = image?.replace(/[@:][^/]*$/, '') ?? ref.repository;
    const pullParts: { platform: string | undefined; decision: ReturnType<typeof evaluate> }[] = [
      {
        platform: undefined,
        decision: evaluatePull(
          set,
          {
            reference:
              ref.tag !== undefined && ref.digest === undefined
                ? { kind: 'tag', name, tag: ref.tag, served: fetched.digest }
                : { kind: 'digest', name, digest: fetched.digest },
          },
          base,
        ),
      },
    ];
    const baseRule = resolvePolicies(set, base).rules['stale-base'];
    for (const p of parts) {
      if (p.base === undefined || baseRule.mode === 'off') continue;
      const baseRef = parseImageReference(p.base.name);
      let state: BaseState;
      if (baseRef === undefined) state = { kind: 'unknown', why: 'the base name is not an image reference' };
      else if (baseRef.tag === undefined) state = { kind: 'untagged' };
      else {
        state = await resolveTagNow(baseRef, access).then(
          (now): BaseState => ({
            kind: 'known',
            digest: now.digest,
            children: now.children,
            source: 'upstream',
          }),
          (err: unknown): BaseState => ({
            kind: 'unknown',
            why: `its registry did not answer (${err instanceof Error ? err.message : 'error'})`,
          }),
        );
      }
      pullParts.push({
        platform: p.platform,
        decision: evaluatePull(set, { base: { ...p.base, state } }, p.context),
      });
    }
    const judged = [...parts, ...pullParts];
    const findings = judged.flatMap((p) =>
      p.decision.findings.map((f) => (p.platform === undefined ? f : { ...f, platform: p.platform })),
    );
    const merged = {
      decision: decisionOf(findings),
      findings,
      waived: judged.flatMap((p) => p.decision.waived),
      exceptionsApplied: unique(judged.flatMap((p) => p.decision.exceptionsApplied)),
      exceptionsExpired: unique(judged.flatMap((p) => p.decision.exceptionsExpired)),
      policyNames: [...new Set(judged.flatMap((p) => p.decision.policyNames))],
      policyVersion: set.version,
    };
    io.stdout(
      `${JSON.stringify({ ...output(merged), image: { reference: image, digest: fetched.digest } })}\n`,
    );
    return merged.decision === 'deny' ? 1 : 0;
  } catch (err) {
    if (err instanceof BadInput) {
      io.stderr(`pullgate evaluate: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: 'string' },
      policy: { type: 'string' },
      insecure: { type: 'boolean' },
      repository: { type: 'string' },
      tag: { type: 'string' },
      upstream: { type: 'string' },
      user: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

async function readConfig(source: string, io: CliIo): Promise<string> {
  if (source === '-') return io.readStdin();
  try {
    return await readFile(source, 'utf8');
  } catch (err) {
    throw new BadInput(`cannot read ${source}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

type Decision = import('../policy/evaluate.js').Decision;

/** Several decisions about one pull (the image rules, the pull rules) as one. */
function merge(
  version: string,
  decisions: readonly Decision[],
  decisionOf: (findings: readonly { mode: 'enforce' | 'audit' }[]) => Decision['decision'],
): Decision {
  const findings = decisions.flatMap((d) => d.findings);
  return {
    decision: decisionOf(findings),
    findings,
    waived: decisions.flatMap((d) => d.waived),
    exceptionsApplied: unique(decisions.flatMap((d) => d.exceptionsApplied)),
    exceptionsExpired: unique(decisions.flatMap((d) => d.exceptionsExpired)),
    policyNames: [...new Set(decisions.flatMap((d) => d.policyNames))],
    policyVersion: version,
  };
}

function unique<T extends { policy: string; index: number }>(refs: T[]): T[] {
  const seen = new Map<string, T>();
  for (const r of refs) seen.set(`${r.policy}#${r.index}`, r);
  return [...seen.values()];
}

interface Decided {
  decision: string;
  findings: object[];
  waived: object[];
  exceptionsApplied: object[];
  exceptionsExpired: object[];
  policyNames: string[];
  policyVersion: string;
}

/** The DESIGN.md contract first (`decision`, `findings`), then what a reviewer wants to know. */
function output(d: Decided) {
  return {
    decision: d.decision,
    findings: d.findings,
    waived: d.waived,
    exceptionsApplied: d.exceptionsApplied,
    exceptionsExpired: d.exceptionsExpired,
    policies: d.policyNames,
    policyVersion: d.policyVersion,
  };
}
