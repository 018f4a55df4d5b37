import type { AlertView } from '../tags/alert-view.js';
import type { ImageDiff } from '../tags/diff.js';
import { nowRunsAsRoot } from '../tags/severity.js';

const show = (v: unknown) => (v === null || v === undefined ? '(none)' : JSON.stringify(v));

/** The diff of `pullgate alerts show`, with the values on both sides (env: names only, as everywhere). */
export function renderDiff(diff: AlertView['diff']): string[] {
  if (diff === null) return [];
  if (!('platforms' in diff)) return [diff.error];
  const d: ImageDiff = diff;
  const lines: string[] = [];
  if (d.kindChanged !== undefined) lines.push(`kind: ${d.kindChanged.from} → ${d.kindChanged.to}`);
  if (d.platformsAdded.length > 0) lines.push(`platforms added: ${d.platformsAdded.join(', ')}`);
  if (d.platformsRemoved.length > 0) lines.push(`platforms removed: ${d.platformsRemoved.join(', ')}`);
  for (const p of d.platforms) {
    const out: string[] = [];
    if (p.user !== undefined)
      out.push(
        `user: ${show(p.user.from)} → ${show(p.user.to)}${nowRunsAsRoot(p.user) ? ' (now runs as root)' : ''}`,
      );
    if (p.entrypoint !== undefined)
      out.push(`entrypoint: ${show(p.entrypoint.from)} → ${show(p.entrypoint.to)}`);
    if (p.cmd !== undefined) out.push(`cmd: ${show(p.cmd.from)} → ${show(p.cmd.to)}`);
    if (p.exposedPorts !== undefined) {
      for (const x of p.exposedPorts.added) out.push(`port added: ${x}`);
      for (const x of p.exposedPorts.removed) out.push(`port removed: ${x}`);
    }
    if (p.labels !== undefined) {
      for (const [k, v] of Object.entries(p.labels.added)) out.push(`label added: ${k}=${show(v)}`);
      for (const k of p.labels.removed) out.push(`label removed: ${k}`);
      for (const [k, c] of Object.entries(p.labels.changed))
        out.push(`label ${k}: ${show(c.from)} → ${show(c.to)}`);
    }
    if (p.env !== undefined) {
      for (const n of p.env.added) out.push(`env added: ${n}`);
      for (const n of p.env.removed) out.push(`env removed: ${n}`);
      for (const n of p.env.changed) out.push(`env value changed: ${n}`);
    }
    if (p.layers !== undefined) {
      const size = (l: string) => (p.layers?.sizes?.[l] !== undefined ? ` (${p.layers.sizes[l]} bytes)` : '');
      for (const l of p.layers.added) out.push(`layer added: ${l}${size(l)}`);
      for (const l of p.layers.removed) out.push(`layer removed: ${l}${size(l)}`);
    }
    if (p.created !== undefined) out.push(`created: ${show(p.created.from)} → ${show(p.created.to)}`);
    for (const [k, c] of Object.entries(p.baseImage ?? {}))
      out.push(`annotation ${k}: ${show(c.from)} → ${show(c.to)}`);
    lines.push(`${p.platform}:${out.length === 0 ? ' no config changes' : ''}`);
    for (const o of out) lines.push(`  ${o}`);
  }
  return lines;
}
