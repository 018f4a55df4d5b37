/**
 * Parses a `WWW-Authenticate` header (RFC 9110 §11.6.1) into its scheme and parameters. Registries send one
 * challenge; Docker Hub's is `Bearer realm="...",service="...",scope="..."` (distribution token spec).
 */
export interface Challenge {
  scheme: 'bearer' | 'basic' | 'other';
  params: Record<string, string>;
}

export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (header === undefined) return undefined;
  const match = /^\s*([A-Za-z][A-Za-z0-9._~+/-]*)\s*(.*)$/s.exec(header);
  if (match === null) return undefined;
  const schemeName = (match[1] ?? '').toLowerCase();
  const params: Record<string, string> = {};
  const paramPattern = /([A-Za-z0-9_.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?/g;
  for (const m of (match[2] ?? '').matchAll(paramPattern)) {
    const key = (m[1] ?? '').toLowerCase();
    params[key] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '');
  }
  const scheme = schemeName === 'bearer' ? 'bearer' : schemeName === 'basic' ? 'basic' : 'other';
  return { scheme, params };
}

/** The scope a pull of `repository` needs (distribution token spec, "Requesting a Token"). */
export function pullScope(repository: string): string {
  return `repository:${repository}:pull`;
}
