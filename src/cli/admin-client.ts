/**
 * The admin API as the reviewers' commands (`alerts`, `tags`, `decisions`) call it: JSON over HTTP with the
 * bearer token from PULLGATE_ADMIN_TOKEN.
 */
export interface ApiResult {
  status: number;
  body: unknown;
}

export async function callAdmin(
  server: string,
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<ApiResult> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token !== undefined && token !== '') headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(new URL(path, server.endsWith('/') ? server : `${server}/`), {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON (a proxy in between): shown as text.
  }
  return { status: res.status, body: parsed };
}

export function apiMessage(result: ApiResult): string {
  const b = result.body;
  if (typeof b === 'object' && b !== null && 'error' in b) {
    const e = b.error;
    if (typeof e === 'object' && e !== null && 'message' in e && typeof e.message === 'string') {
      const code = 'code' in e && typeof e.code === 'string' ? `${e.code}: ` : '';
      return `${code}${e.message}`;
    }
  }
  return typeof b === 'string' && b !== '' ? b.slice(0, 500) : `HTTP ${result.status}`;
}
