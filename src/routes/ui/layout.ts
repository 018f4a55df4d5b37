import type { Principal } from '../../auth/principal.js';
import { html, type SafeHtml } from './html.js';

export interface PageContext {
  principal?: Principal | undefined;
  /** The CSRF token for forms on this page (the logout form in the header, review forms). */
  csrf: string;
}

/** The page shell. No script anywhere: the console reads and reviews with plain links and forms. */
export function page(title: string, ctx: PageContext, body: SafeHtml): SafeHtml {
  const nav =
    ctx.principal === undefined
      ? html``
      : html`<a href="/ui/alerts">Alerts</a><a href="/ui/decisions">Decisions</a><a href="/ui/policies">Policies</a>${
          ctx.principal.role === 'admin' ? html`<a href="/ui/tokens">Tokens</a>` : ''
        }
<form method="post" action="/ui/logout"><span class="who">${ctx.principal.name} (${ctx.principal.role})</span>
<input type="hidden" name="_csrf" value="${ctx.csrf}"><button type="submit">Log out</button></form>`;
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · pullgate</title>
<link rel="stylesheet" href="/ui/static/console.css">
</head><body>
<header><a class="brand" href="/ui/">pullgate</a>${nav}</header>
<main>${body}</main>
</body></html>`;
}

export function shortDigest(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

export function badge(kind: 'sev' | 'st', value: string): SafeHtml {
  return html`<span class="badge ${kind}-${value}">${value}</span>`;
}

export function errorPage(ctx: PageContext, status: number, message: string): SafeHtml {
  return page(
    `Error ${status}`,
    ctx,
    html`<h1>Error ${status}</h1><p class="error">${message}</p>
<p><a href="/ui/alerts">Back to the alerts</a></p>`,
  );
}
