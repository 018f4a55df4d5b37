import type { Pullgate } from '../../helpers/pullgate.js';
import type { AccessLogEntry } from '../../helpers/registry.js';

// What every pull-matrix test shares: the image shapes a non-root policy serves, and the two ways a test tells
// that a client really went through pullgate (the registry never heard the client; pullgate answered it).

export const SHAPES = ['nonroot', 'v2s2', 'oci-index', 'docker-list', 'big'] as const;
export type Shape = (typeof SHAPES)[number];

/** The user agents on a slice of the registry's access log. */
export function agents(entries: AccessLogEntry[]): Set<string> {
  return new Set(entries.map((e) => e.userAgent));
}

/** Requests pullgate answered on the registry API, from its `/metrics`. */
export async function proxiedRequests(pullgate: Pullgate): Promise<number> {
  const text = await (await fetch(`${pullgate.url}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('pullgate_http_requests_total{') && line.includes('route="/v2/*"'))
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

export interface LoggedRequest {
  method: string;
  url: string;
}

/** A pino logger option for startPullgate that collects pullgate's incoming requests (method and URL). */
export function requestLog(into: LoggedRequest[]) {
  return {
    level: 'info',
    stream: {
      write: (line: string) => {
        const entry = JSON.parse(line) as { msg?: string; req?: LoggedRequest };
        if (entry.msg === 'incoming request' && entry.req !== undefined) into.push(entry.req);
      },
    },
  };
}
