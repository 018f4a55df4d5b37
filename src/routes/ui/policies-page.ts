import type { PolicyStatus } from '../../plugins/policies.js';
import { html, type SafeHtml } from './html.js';
import { type PageContext, page } from './layout.js';

export function policiesPage(
  ctx: PageContext,
  s: PolicyStatus,
  expiresAt: (expires: string) => Date,
): SafeHtml {
  const exceptions = (s.set?.policies ?? [])
    .flatMap((p) => p.exceptions.map((e) => ({ policy: p.source, e, at: expiresAt(e.expires) })))
    .sort((a, b) => a.at.getTime() - b.at.getTime());
  return page(
    'Policies',
    ctx,
    html`<h1>Policies in force</h1>
${
  s.set === undefined
    ? html`<p class="notice">Policy evaluation is off.</p>`
    : html`<p>Version <code>${s.set.version}</code> · ${s.set.policies.length} policy files</p>
<ul>${s.set.policies.map((p) => html`<li><code>${p.source}</code></li>`)}</ul>`
}
<h2>Last load</h2>
${
  s.lastLoad === undefined
    ? html`<p class="muted">Not recorded.</p>`
    : html`<p>${s.lastLoad.trigger} at ${s.lastLoad.at}: <strong>${s.lastLoad.ok ? 'loaded' : 'failed'}</strong> (version <code>${s.lastLoad.version}</code>)</p>
${s.lastLoad.message !== undefined ? html`<pre class="error">${s.lastLoad.message}</pre>` : ''}`
}
<h2>Exceptions, soonest expiry first</h2>
${
  exceptions.length === 0
    ? html`<p class="muted">No exceptions.</p>`
    : html`<table class="stack"><thead><tr><th>Expires</th><th>Exception</th><th>Policy file</th></tr></thead><tbody>
${exceptions.map(
  (x) =>
    html`<tr><td data-label="Expires">${x.at.toISOString()}</td><td data-label="Exception"><pre class="mono">${JSON.stringify(x.e, null, 1)}</pre></td><td data-label="Policy file"><code>${x.policy}</code></td></tr>`,
)}</tbody></table>`
}`,
  );
}
