import { z } from 'zod';
import type { OutboxFormat, WarnedImageRow } from '../store/schema.js';
import type { AlertView } from '../tags/alert-view.js';
import type { ImageDiff } from '../tags/diff.js';

/** Bumped when the generic JSON payload changes shape incompatibly (receivers switch on it). */
export const payloadVersion = 1;

export interface JsonPayload {
  version: typeof payloadVersion;
  event: string;
  deliveryId: string;
  alert: AlertView;
  /** The alert's page in the console, when PULLGATE_PUBLIC_URL is set. */
  consoleUrl?: string;
}

/** The console page of an alert under the public URL. */
export function consoleUrl(publicUrl: string | undefined, alertId: number): string | undefined {
  return publicUrl === undefined ? undefined : `${publicUrl.replace(/\/+$/, '')}/ui/alerts/${alertId}`;
}

const eventTitle: Record<string, string> = {
  'alert.opened': 'changed',
  'alert.approved': 'change approved',
  'alert.rejected': 'change rejected',
  'alert.reopened': 'change reopened for review',
};

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
  publicUrl?: string,
): unknown {
  const url = consoleUrl(publicUrl, alert.id);
  if (format === 'json') {
    const body: JsonPayload = {
      version: payloadVersion,
      event,
      deliveryId,
      alert,
      ...(url ? { consoleUrl: url } : {}),
    };
    return body;
  }
  const last = alert.reviews?.[alert.reviews.length - 1];
  const title =
    `pullgate: tag ${alert.repository}:${alert.tag} on ${alert.registry} ${eventTitle[event] ?? 'changed'} ` +
    `(alert ${alert.id}, ${alert.severity}, action ${alert.action})`;
  // Slack mrkdwn: <, > and & are control characters (api.slack.com/reference/surfaces/formatting#escaping).
  const slackEscape = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const details = [
    `old: \`${alert.old.digest}\``,
    `new: \`${alert.new.digest}\``,
    ...summariseDiff(alert.diff).map((l) => `• ${slackEscape(l)}`),
    ...(event !== 'alert.opened' && last !== undefined
      ? [`${last.action} by ${slackEscape(last.reviewer)}: ${slackEscape(last.reason)}`]
      : []),
    url !== undefined
      ? `review: <${url}|open alert ${alert.id} in the console>`
      : `review: \`pullgate alerts show ${alert.id}\``,
  ].join('\n');
  return {
    text: title,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${title}*` } },
      { type: 'section', text: { type: 'mrkdwn', text: details.slice(0, 2900) } },
    ],
  };
}

/** What a `log.checkpoint` event carries: the decision log's latest checkpoint note and its fields. */
export const checkpointEventSchema = z.strictObject({
  origin: z.string().min(1),
  size: z.number().int().nonnegative(),
  /** The head record's hash, hex. */
  hash: z.string().regex(/^[a-f0-9]{64}$/),
  /** The C2SP signed note, exactly as `GET /admin/log/checkpoint` serves it: store it as is. */
  note: z.string().min(1),
  signed: z.boolean(),
  keyId: z.string().optional(),
  time: z.string(),
});
export type CheckpointEvent = z.infer<typeof checkpointEventSchema>;

export interface CheckpointPayload {
  version: typeof payloadVersion;
  event: string;
  deliveryId: string;
  checkpoint: CheckpointEvent;
}

/** The body of a `log.checkpoint` event: generic JSON, or a Slack message holding the note verbatim. */
export function renderCheckpointPayload(
  format: OutboxFormat,
  event: string,
  deliveryId: string,
  checkpoint: CheckpointEvent,
): unknown {
  if (format === 'json') {
    const body: CheckpointPayload = { version: payloadVersion, event, deliveryId, checkpoint };
    return body;
  }
  const title = `pullgate: decision log ${checkpoint.origin} holds ${checkpoint.size} records (${checkpoint.signed ? 'signed' : 'unsigned'} checkpoint)`;
  return {
    text: title,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${title}*` } },
      { type: 'section', text: { type: 'mrkdwn', text: `\`\`\`${checkpoint.note}\`\`\`` } },
    ],
  };
}

/** An image served with warnings, as a webhook receiver gets it (`image.warned`); stored as the outbox payload. */
export const warnedImageViewSchema = z.strictObject({
  id: z.number().int(),
  upstream: z.string(),
  /** The registry as people know it (see AlertView.registry). */
  registry: z.string(),
  repository: z.string(),
  reference: z.string(),
  digest: z.string(),
  policyVersion: z.string(),
  findings: z.array(z.strictObject({ rule: z.string(), key: z.string().optional() })),
  firstSeen: z.string(),
});
export type WarnedImageView = z.infer<typeof warnedImageViewSchema>;

export function toWarnedImageView(row: WarnedImageRow, registry: string): WarnedImageView {
  let findings: WarnedImageView['findings'] = [];
  const parsed = warnedImageViewSchema.shape.findings.safeParse(
    (() => {
      try {
        return JSON.parse(row.findings) as unknown;
      } catch {
        return [];
      }
    })(),
  );
  if (parsed.success) findings = parsed.data;
  return {
    id: row.id,
    upstream: row.upstream,
    registry,
    repository: row.repository,
    reference: row.reference,
    digest: row.digest,
    policyVersion: row.policy_version,
    findings,
    firstSeen: row.first_seen,
  };
}

/**
 * `image.warned`: the first pull of an image (per policy version) that audit mode served with findings. Clients
 * print no Warning header, so this is where the team hears what enforce mode would refuse.
 */
export function renderWarnedImagePayload(
  format: OutboxFormat,
  event: string,
  deliveryId: string,
  image: WarnedImageView,
): unknown {
  if (format === 'json') return { version: payloadVersion, event, deliveryId, image };
  const rules = image.findings.map((f) => (f.key === undefined ? f.rule : `${f.rule}: ${f.key}`));
  const title =
    `pullgate: ${image.registry}/${image.repository}:${image.reference} was served with warnings ` +
    '(audit mode; enforce would refuse it)';
  const details = [
    `digest: \`${image.digest}\``,
    ...rules.map((r) => `• ${r}`),
    `decisions: \`pullgate decisions --digest ${image.digest}\``,
  ].join('\n');
  return {
    text: title,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${title}*` } },
      { type: 'section', text: { type: 'mrkdwn', text: details.slice(0, 2900) } },
    ],
  };
}
