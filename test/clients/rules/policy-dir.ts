import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';

/** A policy directory holding the given policies (apiVersion and kind filled in), one file each. */
export async function policyDir(label: string, policies: Record<string, unknown>[]): Promise<TempDir> {
  const dir = await makeTempDir(label);
  for (const p of policies) {
    await writeFile(
      join(dir.path, `${String(p.name)}.yaml`),
      stringify({ apiVersion: 'pullgate/v1', kind: 'Policy', ...p }),
    );
  }
  return dir;
}

export interface DecisionJson {
  reference: string;
  decision: string;
  digest?: string;
  findings: { rule: string; message: string; mode?: string; platform?: string }[];
}

/** The decision log, through the admin API, filtered by rule. */
export async function decisionsFor(url: string, token: string, rule: string): Promise<DecisionJson[]> {
  const res = await fetch(`${url}/admin/decisions?rule=${rule}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (res.status !== 200) throw new Error(`decisions answered ${res.status}`);
  return ((await res.json()) as { records: DecisionJson[] }).records;
}

/** The Warning header pullgate sends with a manifest (HEAD), or '' without one. */
export async function manifestWarning(url: string, repo: string, reference: string): Promise<string> {
  const res = await fetch(`${url}/v2/${repo}/manifests/${reference}`, {
    method: 'GET',
    headers: {
      accept:
        'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json',
    },
  });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`manifest ${repo}:${reference} answered ${res.status}`);
  return res.headers.get('warning') ?? '';
}
