/**
 * The admin API as the reviewers' commands (`alerts`, `tags`, `decisions`, `tokens`) call it: JSON over HTTP
 * with a bearer token — the reviewer's personal token from PULLGATE_TOKEN, else the break-glass
 * PULLGATE_ADMIN_TOKEN.
 */
export function adminToken(env: NodeJS.ProcessEnv): string | undefined {
  const personal = env.PULLGATE_TOKEN;
  if (personal !== undefined && personal !== '') return personal;
  const shared = env.PULLGATE_ADMIN_TOKEN;
  return shared === '' ? undefined : shared;
}

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

/**
 * What a command says when its request got no answer: the fetch error and its cause (undici puts the socket's error
 * there, e.g. ECONNREFUSED), and the server's origin when the command knows it — never credentials or a path.
 */
export function unreachableMessage(err: unknown, server?: string): string {
  const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
  const at = server === undefined ? '' : ` at ${originOf(server)}`;
  return `pullgate: could not reach the server${at}: ${err instanceof Error ? err.message : String(err)}${cause}\n`;
}

function originOf(server: string): string {
  try {
    return new URL(server).origin;
  } catch {
    return '(not a URL)';
  }
}
