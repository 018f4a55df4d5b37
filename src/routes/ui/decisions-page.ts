import type { DecisionRecord } from '../../audit/index.js';
import { html, type SafeHtml } from './html.js';
import { type PageContext, page } from './layout.js';

export const decisionFilterNames = [
  'repository',
  'digest',
  'decision',
  'rule',
  'client',
  'since',
  'until',
] as const;
export type DecisionFilterValues = Partial<Record<(typeof decisionFilterNames)[number], string>>;

export function decisionsPage(
  ctx: PageContext,
  d: {
    filters: DecisionFilterValues;
    records: DecisionRecord[];
    nextCursor: string | undefined;
    error?: string;
  },
): SafeHtml {
  const next = new URLSearchParams();
  for (const k of decisionFilterNames) {
    const v = d.filters[k];
    if (v !== undefined) next.set(k, v);
  }
  if (d.nextCursor !== undefined) next.set('cursor', d.nextCursor);
  const field = (name: (typeof decisionFilterNames)[number], label: string) =>
    html`<label>${label}<input name="${name}" value="${d.filters[name] ?? ''}"></label>`;
  return page(
    'Decisions',
    ctx,
    html`<h1>Decisions</h1>
<form class="filters" method="get" action="/ui/decisions">
${field('repository', 'Repository')}${field('digest', 'Digest')}
<label>Decision<select name="decision"><option value="">any</option>${['allow', 'warn', 'deny'].map(
      (v) => html`<option value="${v}"${d.filters.decision === v ? html` selected` : ''}>${v}</option>`,
    )}</select></label>
${field('rule', 'Rule')}${field('client', 'Client')}${field('since', 'Since')}${field('until', 'Until')}
<button type="submit">Search</button>
</form>
${d.error !== undefined ? html`<p class="error" role="alert">${d.error}</p>` : ''}
${
  d.records.length === 0
    ? html`<p>No decisions match.</p>`
    : html`<table class="stack"><thead><tr><th>Record</th><th>Time</th><th>Decision</th><th>Image</th><th>Client</th><th>Rules</th></tr></thead><tbody>
${d.records.map(
  (
    r,
  ) => html`<tr><td data-label="Record"><a href="/ui/decisions/${'replica' in r ? String(r.replica) : 'local'}/${r.seq}">#${r.seq}</a></td><td data-label="Time">${r.time}</td>
<td data-label="Decision"><strong>${r.decision}</strong></td>
<td data-label="Image">${r.repository}:${r.reference}</td><td data-label="Client">${r.client.user ?? r.client.address}</td>
<td data-label="Rules">${[...new Set(r.findings.map((f) => f.rule))].join(', ')}</td></tr>`,
)}</tbody></table>`
}
${d.nextCursor !== undefined ? html`<p><a href="/ui/decisions?${next.toString()}">Older</a></p>` : ''}`,
  );
}

export function decisionPage(ctx: PageContext, r: DecisionRecord): SafeHtml {
  return page(
    `Decision ${r.seq}`,
    ctx,
    html`<h1>Decision #${r.seq}: ${r.decision}</h1>
<p>${r.time} · ${r.method} ${r.upstream}/${r.repository}:${r.reference}</p>
<p class="mono">${r.digest ?? ''}</p>
<h2>Findings</h2>
${r.findings.length === 0 ? html`<p class="muted">None.</p>` : html`<ul>${r.findings.map((f) => html`<li><code>${f.rule}</code> (${f.mode}): ${f.message}</li>`)}</ul>`}
<h2>Record</h2>
<pre class="mono">${JSON.stringify(r, null, 2)}</pre>`,
  );
}
