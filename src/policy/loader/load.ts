import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { type LoadedPolicy, type Policy, type PolicySet, policySchema, type RuleMode } from '../schema.js';

export interface PolicyProblem {
  file: string;
  /** Path inside the document, e.g. `rules.run-as-root.mode`; empty for the whole file. */
  path: string;
  message: string;
}

/** Policy files that cannot be used. The message lists every problem as `file: path: what is wrong`. */
export class PolicyLoadError extends Error {
  readonly problems: PolicyProblem[];

  constructor(problems: PolicyProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'PolicyLoadError';
    this.problems = problems;
  }
}

export function formatProblem(p: PolicyProblem): string {
  return p.path === '' ? `${p.file}: ${p.message}` : `${p.file}: ${p.path}: ${p.message}`;
}

const POLICY_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

export interface PolicyFile {
  /** Shown in errors: the path as given. */
  file: string;
  text: string;
}

/**
 * Loads every `*.yaml`, `*.yml` and `*.json` file directly in `dir` (not sub-directories: `policies/examples/`
 * holds documentation that must not be active). Throws PolicyLoadError listing every problem in every file.
 */
export interface LoadOptions {
  /**
   * Accept a directory with no policy files. Off by default: an empty directory is far more often an empty
   * volume, a ConfigMap mid-update or an `rsync --delete` in progress than a wish to judge nothing, and loading
   * it would turn enforcement off.
   */
  allowEmpty?: boolean;
}

export async function loadPolicies(dir: string, options: LoadOptions = {}): Promise<PolicySet> {
  let names: string[];
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    names = entries
      .filter(
        (e) => e.isFile() && POLICY_EXTENSIONS.has(extname(e.name).toLowerCase()) && !e.name.startsWith('.'),
      )
      .map((e) => e.name)
      .sort();
  } catch (err) {
    throw new PolicyLoadError([
      { file: dir, path: '', message: `cannot read the policy directory (${errorCode(err)})` },
    ]);
  }
  const files: PolicyFile[] = [];
  for (const name of names) {
    const file = join(dir, name);
    try {
      files.push({ file, text: await readFile(file, 'utf8') });
    } catch (err) {
      throw new PolicyLoadError([{ file, path: '', message: `cannot read (${errorCode(err)})` }]);
    }
  }
  if (files.length === 0 && options.allowEmpty !== true) {
    throw new PolicyLoadError([
      {
        file: dir,
        path: '',
        message:
          'no policy files (*.yaml, *.yml, *.json): refusing to run with no policy; set PULLGATE_POLICY_ALLOW_EMPTY=true if that is really meant',
      },
    ]);
  }
  return parsePolicyFiles(files);
}

/** Parses and cross-checks already-read policy files; the version hashes names and contents. */
export function parsePolicyFiles(files: readonly PolicyFile[]): PolicySet {
  const problems: PolicyProblem[] = [];
  const policies: LoadedPolicy[] = [];
  for (const f of files) {
    const parsed = parsePolicyText(f.file, f.text);
    if (parsed.ok) policies.push({ ...parsed.policy, source: f.file });
    else problems.push(...parsed.problems);
  }
  problems.push(...findContradictions(policies));
  if (problems.length > 0) throw new PolicyLoadError(problems);
  return { policies, version: policyVersion(files) };
}

export type ParseResult = { ok: true; policy: Policy } | { ok: false; problems: PolicyProblem[] };

/** One policy document (YAML, of which JSON is a subset) checked against the schema. */
export function parsePolicyText(file: string, text: string): ParseResult {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => ({
        file,
        path: '',
        message: `not valid ${extname(file).toLowerCase() === '.json' ? 'JSON/YAML' : 'YAML'}: ${firstLine(
          e.message,
        )
          .replace(/ at line \d+, column \d+:?$/, '')
          .trim()}${e.linePos?.[0] ? ` (line ${e.linePos[0].line}, column ${e.linePos[0].col})` : ''}`,
      })),
    };
  }
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) {
    return { ok: false, problems: [{ file, path: '', message: 'the file is empty' }] };
  }
  const result = policySchema.safeParse(value);
  if (!result.success) return { ok: false, problems: zodProblems(file, result.error) };
  return { ok: true, policy: result.data };
}

export function zodProblems(file: string, error: z.ZodError): PolicyProblem[] {
  return error.issues.map((issue) => ({ file, path: formatPath(issue.path), message: issueMessage(issue) }));
}

function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys')
    return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  return issue.message;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

const IMAGE_RULES = [
  'run-as-root',
  'secret-env',
  'secret-history',
  'require-digest',
  'image-age',
  'stale-base',
] as const;

/**
 * Policies that cannot all be meant: the same name twice, or two policies with the same scope and priority that
 * set one rule differently (neither could win, so the result would depend on file order).
 */
function findContradictions(policies: readonly LoadedPolicy[]): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  const byName = new Map<string, LoadedPolicy>();
  for (const p of policies) {
    const first = byName.get(p.name);
    if (first !== undefined) {
      problems.push({
        file: p.source,
        path: 'name',
        message: `policy name "${p.name}" is already used by ${basename(first.source)}`,
      });
    } else byName.set(p.name, p);
  }
  const byScope = new Map<string, LoadedPolicy[]>();
  for (const p of policies) {
    const key = `${p.priority}|${canonicalScope(p)}`;
    byScope.set(key, [...(byScope.get(key) ?? []), p]);
  }
  for (const group of byScope.values()) {
    for (let i = 0; i < group.length; i++) {
      for (let j = i + 1; j < group.length; j++) {
        const a = group[i];
        const b = group[j];
        if (a === undefined || b === undefined) continue;
        for (const rule of IMAGE_RULES) {
          const ma = ruleSetting(a, rule);
          const mb = ruleSetting(b, rule);
          if (ma !== undefined && mb !== undefined && ma !== mb) {
            problems.push({
              file: b.source,
              path: `rules.${rule}`,
              message: `contradicts policy "${a.name}" (${basename(a.source)}): same scope and priority ${b.priority}, but ${rule} is ${mb} here and ${ma} there; give one a higher priority or a narrower scope`,
            });
          }
        }
        if (
          (a.failClosed ?? true) !== (b.failClosed ?? true) &&
          a.failClosed !== undefined &&
          b.failClosed !== undefined
        ) {
          problems.push({
            file: b.source,
            path: 'failClosed',
            message: `contradicts policy "${a.name}" (${basename(a.source)}) with the same scope and priority`,
          });
        }
      }
    }
  }
  return problems;
}

function ruleSetting(p: Policy, rule: (typeof IMAGE_RULES)[number]): string | undefined {
  if (rule === 'run-as-root') {
    const r = p.rules['run-as-root'];
    return r === undefined ? undefined : `${r.mode}${r.strict === true ? ' (strict)' : ''}`;
  }
  // The options are part of the setting: two policies that differ only in them contradict too.
  const r: ({ mode: RuleMode } & Record<string, unknown>) | undefined = p.rules[rule];
  if (r === undefined) return undefined;
  const { mode, ...options } = r;
  return Object.keys(options).length === 0 ? mode : `${mode} ${JSON.stringify(options)}`;
}

function canonicalScope(p: Policy): string {
  const sorted = (list: string[] | undefined) => (list === undefined ? null : [...list].sort());
  return JSON.stringify([
    sorted(p.scope.upstreams),
    sorted(p.scope.repositories),
    sorted(p.scope.tags),
    sorted(p.scope.clients?.users),
    sorted(p.scope.clients?.networks),
  ]);
}

/** Stable and short: the same files give the same version on every replica. */
export function policyVersion(files: readonly PolicyFile[]): string {
  const hash = createHash('sha256');
  for (const f of [...files].sort((a, b) => (basename(a.file) < basename(b.file) ? -1 : 1))) {
    hash.update(basename(f.file)).update('\0').update(f.text).update('\0');
  }
  return hash.digest('hex').slice(0, 12);
}

function firstLine(s: string): string {
  return s.split('\n', 1)[0] ?? s;
}

function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? 'error';
}
