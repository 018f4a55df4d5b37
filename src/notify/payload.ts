import type { OutboxFormat } from '../store/schema.js';
import type { AlertView } from '../tags/alert-view.js';
import type { ImageDiff } from '../tags/diff.js';

/** Bumped when the generic JSON payload changes shape incompatibly (receivers switch on it). */
export const payloadVersion = 1;

export interface JsonPayload {
  version: typeof payloadVersion;
  event: string;
  deliveryId: string;
  alert: AlertView;
}

function isDiff(d: AlertView['diff']): d is ImageDiff {
  return d !== null && 'platforms' in d;
}

/** One line per kind of change, names only: the same vocabulary as `pullgate alerts show`. */
export function summariseDiff(diff: AlertView['diff']): string[] {
  if (diff === null) return [];
  if (!isDiff(diff)) return [diff.error];
  const lines: string[] = [];
  if (diff.kindChanged !== undefined) lines.push(`kind: ${diff.kindChanged.from} → ${diff.kindChanged.to}`);
  if (diff.platformsAdded.length > 0) lines.push(`platforms added: ${diff.platformsAdded.join(', ')}`);
  if (diff.platformsRemoved.length > 0) lines.push(`platforms removed: ${diff.platformsRemoved.join(', ')}`);
  for (const p of diff.platforms) {
    const parts: string[] = [];
    if (p.user !== undefined)
      parts.push(`user ${JSON.stringify(p.user.from)} → ${JSON.stringify(p.user.to)}`);
    if (p.entrypoint !== undefined) parts.push('entrypoint changed');
    if (p.cmd !== undefined) parts.push('cmd changed');
    if (p.exposedPorts !== undefined) {
      parts.push(`ports +[${p.exposedPorts.added.join(' ')}] -[${p.exposedPorts.removed.join(' ')}]`);
    }
    if (p.env !== undefined) {
      const e = p.env;
      parts.push(`env +[${e.added.join(' ')}] -[${e.removed.join(' ')}] ~[${e.changed.join(' ')}]`);
    }
    if (p.labels !== undefined) parts.push('labels changed');
    if (p.layers !== undefined) parts.push(`layers +${p.layers.added.length} -${p.layers.removed.length}`);
    if (p.created !== undefined) parts.push(`created ${p.created.from ?? '?'} → ${p.created.to ?? '?'}`);
    if (p.baseImage !== undefined) parts.push('base image changed');
    lines.push(`${p.platform}: ${parts.length > 0 ? parts.join('; ') : 'no config changes'}`);
  }
  return lines;
}

/** The body POSTed to a receiver: generic JSON, or a Slack incoming-webhook message (`text` + `blocks`). */
export function renderPayload(
  format: OutboxFormat,
  event: string,
  deliveryId: string,
  alert: AlertView,
): unknown {
  if (format === 'json') {
    const body: JsonPayload = { version: payloadVersion, event, deliveryId, alert };
    return body;
  }
  const title =
    `pullgate: tag ${alert.repository}:${alert.tag} on ${alert.upstream} changed ` +
    `(alert ${alert.id}, ${alert.severity}, action ${alert.action})`;
  const details = [
    `old: \`${alert.old.digest}\``,
    `new: \`${alert.new.digest}\``,
    ...summariseDiff(alert.diff).map((l) => `• ${l}`),
    `review: \`pullgate alerts show ${alert.id}\``,
  ].join('\n');
  return {
    text: title,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${title}*` } },
      { type: 'section', text: { type: 'mrkdwn', text: details.slice(0, 2900) } },
    ],
  };
}
