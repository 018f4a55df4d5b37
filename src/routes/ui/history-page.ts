import type { TagHistoryView } from '../../tags/history.js';
import { html, type SafeHtml } from './html.js';
import { badge, type PageContext, page } from './layout.js';

/** A tag's digests over time, oldest first, each with the alerts that named it and their reviews. */
export function historyPage(ctx: PageContext, h: TagHistoryView): SafeHtml {
  const approved = new Set(h.approved.map((s) => s.digest));
  const items = h.observations.map((o) => {
    const alerts = h.alerts.filter((a) => a.new.digest === o.digest);
    return html`<li><p class="mono">${o.digest}${approved.has(o.digest) ? html` <strong>approved</strong>` : ''}</p>
<p>${o.kind} · first seen ${o.firstSeen} · last seen ${o.lastSeen} · ${o.count} resolutions</p>
${alerts.map(
  (a) => html`<p>${badge('st', a.status)} <a href="/ui/alerts/${a.id}">alert #${a.id}</a>
${(a.reviews ?? []).map((r) => html`<br>${r.action} by ${r.reviewer} (${r.auth}) at ${r.at}: ${r.reason}`)}</p>`,
)}</li>`;
  });
  return page(
    'Tag history',
    ctx,
    html`<h1>History of ${h.repository}:${h.tag}</h1><p class="muted">upstream ${h.upstream}</p>
${h.approved.map((s) => html`<p>Approved ${s.kind}: <code>${s.digest}</code>${s.pinned ? ' (pinned)' : ''} since ${s.approvedAt}</p>`)}
${items.length === 0 ? html`<p>This tag has not been seen.</p>` : html`<ol class="timeline">${items}</ol>`}`,
  );
}
