import type { AlertStatus, Severity } from '../../store/schema.js';
import type { AlertView } from '../../tags/alert-view.js';
import { html, type SafeHtml } from './html.js';
import { badge, type PageContext, page, shortDigest } from './layout.js';

export interface QueueFilters {
  status?: AlertStatus | undefined;
  severity?: Severity | undefined;
  repository?: string | undefined;
  upstream?: string | undefined;
  page: number;
}

export interface QueueData {
  filters: QueueFilters;
  alerts: AlertView[];
  counts: Record<AlertStatus, number>;
  places: { upstream: string; repository: string }[];
  pageSize: number;
}

function query(f: QueueFilters, change: Partial<QueueFilters>): string {
  const q = new URLSearchParams();
  const merged = { ...f, ...change };
  for (const k of ['status', 'severity', 'repository', 'upstream'] as const) {
    const v = merged[k];
    if (v !== undefined) q.set(k, v);
  }
  if (merged.page > 1) q.set('page', String(merged.page));
  return q.size > 0 ? `?${q}` : '';
}

function options(values: readonly string[], selected: string | undefined, any: string): SafeHtml {
  return html`<option value="">${any}</option>${values.map(
    (v) => html`<option value="${v}"${v === selected ? html` selected` : ''}>${v}</option>`,
  )}`;
}

export function queuePage(ctx: PageContext, d: QueueData): SafeHtml {
  const f = d.filters;
  const total = d.counts.open + d.counts.approved + d.counts.rejected;
  const repositories = [...new Set(d.places.map((p) => p.repository))];
  const upstreams = [...new Set(d.places.map((p) => p.upstream))];
  const rows = d.alerts.map(
    (a) => html`<tr>
<td data-label="Alert"><a href="/ui/alerts/${a.id}">#${a.id}</a></td>
<td data-label="Status">${badge('st', a.status)}</td>
<td data-label="Severity">${badge('sev', a.severity)}</td>
<td data-label="Tag"><a href="/ui/alerts/${a.id}">${a.repository}:${a.tag}</a> <span class="muted">${a.upstream}</span></td>
<td data-label="Change" class="mono">${shortDigest(a.old.digest)} → ${shortDigest(a.new.digest)}</td>
<td data-label="Action">${a.action}</td>
<td data-label="Opened">${a.createdAt}</td>
</tr>`,
  );
  return page(
    'Alerts',
    ctx,
    html`<h1>Tag-mutation alerts</h1>
<nav class="counts" aria-label="Counts">
<a href="/ui/alerts${query(f, { status: undefined, page: 1 })}">all ${total}</a>
<a href="/ui/alerts${query(f, { status: 'open', page: 1 })}">open ${d.counts.open}</a>
<a href="/ui/alerts${query(f, { status: 'approved', page: 1 })}">approved ${d.counts.approved}</a>
<a href="/ui/alerts${query(f, { status: 'rejected', page: 1 })}">rejected ${d.counts.rejected}</a>
</nav>
<form class="filters" method="get" action="/ui/alerts">
<label>Status<select name="status">${options(['open', 'approved', 'rejected'], f.status, 'any')}</select></label>
<label>Severity<select name="severity">${options(['critical', 'high', 'medium', 'low', 'info'], f.severity, 'any')}</select></label>
<label>Repository<select name="repository">${options(repositories, f.repository, 'any')}</select></label>
<label>Upstream<select name="upstream">${options(upstreams, f.upstream, 'any')}</select></label>
<button type="submit">Filter</button>
</form>
${
  d.alerts.length === 0
    ? html`<p>No alerts match.</p>`
    : html`<table class="stack"><thead><tr><th>Alert</th><th>Status</th><th>Severity</th><th>Tag</th><th>Change</th><th>Action</th><th>Opened</th></tr></thead>
<tbody>${rows}</tbody></table>`
}
<p>${f.page > 1 ? html`<a href="/ui/alerts${query(f, { page: f.page - 1 })}">Newer</a> ` : ''}${
      d.alerts.length === d.pageSize
        ? html`<a href="/ui/alerts${query(f, { page: f.page + 1 })}">Older</a>`
        : ''
    }</p>`,
  );
}
