import { hasRole } from '../../auth/principal.js';
import type { AlertView } from '../../tags/alert-view.js';
import type { ImageDiff, PlatformDiff } from '../../tags/diff.js';
import { nowRunsAsRoot } from '../../tags/severity.js';
import { html, type SafeHtml } from './html.js';
import { badge, type PageContext, page } from './layout.js';

export interface AlertPageData {
  alert: AlertView;
  /** Live sightings of both digests on this tag (the alert keeps those from when it opened). */
  seen: {
    old: { firstSeen: string; lastSeen: string } | undefined;
    new: { firstSeen: string; lastSeen: string } | undefined;
  };
  error?: string | undefined;
}

function list(values: readonly string[] | null | undefined): SafeHtml {
  if (values === null || values === undefined) return html`<span class="muted">(none)</span>`;
  return html`<code>${JSON.stringify(values)}</code>`;
}

function opt(v: string | null | undefined): SafeHtml {
  return v === null || v === undefined ? html`<span class="muted">(none)</span>` : html`<code>${v}</code>`;
}

function bytes(n: number | undefined): string {
  if (n === undefined) return 'size unknown';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

function items(values: readonly string[], sign: string, note = ''): SafeHtml {
  if (values.length === 0) return html`<span class="muted">(none)</span>`;
  return html`${values.map((v) => html`<div>${sign} <code>${v}</code>${note}</div>`)}`;
}

function row(field: string, before: SafeHtml | string, after: SafeHtml | string, cls = ''): SafeHtml {
  return html`<tr><th scope="row">${field}</th><td data-label="Before" class="${cls ? 'removed' : ''}">${before}</td><td data-label="After" class="${cls ? 'added' : ''}">${after}</td></tr>`;
}

/** One platform's changes as a before/after table; values from the upstream are escaped by `html`. */
export function platformDiffTable(p: PlatformDiff): SafeHtml {
  const rows: SafeHtml[] = [];
  if (p.user !== undefined) {
    const root = nowRunsAsRoot(p.user);
    rows.push(
      row(
        'User',
        opt(p.user.from),
        html`${opt(p.user.to)}${root ? html` <span class="root">now runs as root</span>` : ''}`,
        'x',
      ),
    );
  }
  if (p.entrypoint !== undefined)
    rows.push(row('Entrypoint', list(p.entrypoint.from), list(p.entrypoint.to), 'x'));
  if (p.cmd !== undefined) rows.push(row('Cmd', list(p.cmd.from), list(p.cmd.to), 'x'));
  if (p.exposedPorts !== undefined) {
    rows.push(
      row('Exposed ports', items(p.exposedPorts.removed, '−'), items(p.exposedPorts.added, '+'), 'x'),
    );
  }
  if (p.labels !== undefined) {
    for (const [k, v] of Object.entries(p.labels.added)) rows.push(row(`Label ${k}`, opt(null), opt(v), 'x'));
    for (const k of p.labels.removed)
      rows.push(row(`Label ${k}`, html`<span>removed</span>`, opt(null), 'x'));
    for (const [k, c] of Object.entries(p.labels.changed))
      rows.push(row(`Label ${k}`, opt(c.from), opt(c.to), 'x'));
  }
  if (p.env !== undefined) {
    // Names only: an env value can be a credential, and pullgate never keeps one (description.ts).
    rows.push(
      row(
        'Env names',
        html`${items(p.env.removed, '−')}${p.env.changed.length > 0 ? items(p.env.changed, '~', ' (value changed)') : ''}`,
        html`${items(p.env.added, '+')}${p.env.changed.length > 0 ? items(p.env.changed, '~', ' (value changed)') : ''}`,
        'x',
      ),
    );
  }
  if (p.layers !== undefined) {
    const sizes = p.layers.sizes ?? {};
    rows.push(
      row(
        'Layers',
        p.layers.removed.length === 0
          ? items([], '')
          : html`${p.layers.removed.map((l) => html`<div>− <code>${l}</code> (${bytes(sizes[l])})</div>`)}`,
        p.layers.added.length === 0
          ? items([], '')
          : html`${p.layers.added.map((l) => html`<div>+ <code>${l}</code> (${bytes(sizes[l])})</div>`)}`,
        'x',
      ),
    );
  }
  if (p.created !== undefined) rows.push(row('Created', opt(p.created.from), opt(p.created.to), 'x'));
  for (const [k, c] of Object.entries(p.baseImage ?? {}))
    rows.push(row(`Annotation ${k}`, opt(c.from), opt(c.to), 'x'));
  return html`<h3>Platform ${p.platform}</h3>
<p class="mono">${p.oldDigest} → ${p.newDigest}</p>
${
  rows.length === 0
    ? html`<p class="muted">No configuration changes on this platform.</p>`
    : html`<table class="diff"><thead><tr><th>Field</th><th>Before</th><th>After</th></tr></thead><tbody>${rows}</tbody></table>`
}`;
}

function diffSection(diff: AlertView['diff']): SafeHtml {
  if (diff === null) return html`<p class="muted">No diff recorded.</p>`;
  if (!('platforms' in diff)) return html`<p class="error">${diff.error}</p>`;
  const d: ImageDiff = diff;
  return html`${d.kindChanged !== undefined ? html`<p>Kind: ${d.kindChanged.from} → ${d.kindChanged.to}</p>` : ''}
${d.platformsAdded.length > 0 ? html`<p>Platforms added: ${d.platformsAdded.join(', ')}</p>` : ''}
${d.platformsRemoved.length > 0 ? html`<p>Platforms removed: ${d.platformsRemoved.join(', ')}</p>` : ''}
${d.platforms.map((p) => html`<section class="card">${platformDiffTable(p)}</section>`)}`;
}

function decisionSection(decision: unknown): SafeHtml {
  if (typeof decision !== 'object' || decision === null || !('decision' in decision))
    return html`<p class="muted">No policy decision was available when the alert opened.</p>`;
  const d = decision as { decision: string; findings?: { rule: string; key?: string }[] };
  return html`<p>Policy decision for the new digest: <strong>${d.decision}</strong></p>
${
  (d.findings ?? []).length > 0
    ? html`<ul>${(d.findings ?? []).map((f) => html`<li><code>${f.rule}</code>${f.key !== undefined ? html` on <code>${f.key}</code>` : ''}</li>`)}</ul>`
    : ''
}`;
}

export function alertPage(ctx: PageContext, d: AlertPageData): SafeHtml {
  const a = d.alert;
  const canReview = ctx.principal !== undefined && hasRole(ctx.principal, 'reviewer');
  const historyLink = `/ui/tags?${new URLSearchParams({ upstream: a.upstream, repository: a.repository, tag: a.tag })}`;
  const sighting = (label: string, digest: string, s: { firstSeen: string; lastSeen: string } | undefined) =>
    html`<div class="card"><h3>${label}</h3><p class="mono">${digest}</p>
<p>First seen ${s?.firstSeen ?? '?'}<br>Last seen ${s?.lastSeen ?? '?'}</p></div>`;
  const reviews = a.reviews ?? [];
  let form: SafeHtml = html``;
  if (!canReview) {
    form = html`<p class="notice">Your role (${ctx.principal?.role ?? 'none'}) can read alerts but not review them.</p>`;
  } else if (a.status === 'open') {
    form = html`<form class="review" method="post" action="/ui/alerts/${a.id}/review">
<label for="reason">Reason (required, recorded in the decision log)</label>
<textarea id="reason" name="reason" required maxlength="4000"></textarea>
<input type="hidden" name="_csrf" value="${ctx.csrf}">
<div class="buttons"><button class="approve" type="submit" name="action" value="approve">Approve</button>
<button class="reject" type="submit" name="action" value="reject">Reject</button></div>
</form>`;
  } else {
    form = html`<form class="review" method="post" action="/ui/alerts/${a.id}/reopen">
<label for="reason">Reason for reopening (required)</label>
<textarea id="reason" name="reason" required maxlength="4000"></textarea>
<input type="hidden" name="_csrf" value="${ctx.csrf}">
<div class="buttons"><button type="submit">Reopen</button></div>
</form>`;
  }
  return page(
    `Alert ${a.id}`,
    ctx,
    html`<h1>Alert #${a.id}: ${a.repository}:${a.tag}</h1>
<p>${badge('st', a.status)} ${badge('sev', a.severity)} action <strong>${a.action}</strong> · upstream ${a.upstream} · ${a.kind} · opened ${a.createdAt}
· <a href="${historyLink}">tag history</a></p>
${d.error !== undefined ? html`<p class="error" role="alert">${d.error}</p>` : ''}
<div class="grid">${sighting('Approved (old) digest', a.old.digest, d.seen.old)}${sighting('New digest', a.new.digest, d.seen.new)}</div>
<h2>Policy</h2>
${decisionSection(a.decision)}
<h2>What changed</h2>
${diffSection(a.diff)}
<h2>Review</h2>
${
  reviews.length > 0
    ? html`<ul>${reviews.map((r) => html`<li><strong>${r.action}</strong> by ${r.reviewer} (${r.auth}) at ${r.at}: ${r.reason}</li>`)}</ul>`
    : html`<p class="muted">Not reviewed yet.</p>`
}
${form}`,
  );
}
