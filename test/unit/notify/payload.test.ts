import { describe, expect, it } from 'vitest';
import { renderPayload } from '../../../src/notify/payload.js';
import type { AlertView } from '../../../src/tags/alert-view.js';

const alert: AlertView = {
  id: 7,
  upstream: 'docker.io',
  registry: 'docker.io',
  repository: 'library/nginx',
  tag: '1.25.3',
  kind: 'manifest',
  status: 'approved',
  severity: 'high',
  action: 'pin',
  old: { digest: `sha256:${'a'.repeat(64)}`, mediaType: 'x', firstSeen: null, lastSeen: null },
  new: { digest: `sha256:${'b'.repeat(64)}`, mediaType: 'x', firstSeen: null, lastSeen: null },
  diff: null,
  decision: null,
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
  reviews: [
    {
      action: 'approve',
      reviewer: 'alice',
      auth: 'password',
      reason: 'ok <@here>',
      at: '2026-01-01T01:00:00Z',
    },
  ],
};

describe('webhook payloads', () => {
  it('links the console page in the JSON payload', () => {
    expect(renderPayload('json', 'alert.approved', 'pullgate-1', alert, 'https://pg.example/')).toMatchObject(
      {
        consoleUrl: 'https://pg.example/ui/alerts/7',
      },
    );
  });

  it('links the console in the Slack message and escapes what the reviewer typed', () => {
    const slack = JSON.stringify(
      renderPayload('slack', 'alert.approved', 'pullgate-1', alert, 'https://pg.example'),
    );
    expect(slack).toContain('<https://pg.example/ui/alerts/7|open alert 7 in the console>');
    expect(slack).toContain('change approved');
    expect(slack).toContain('approve by alice: ok &lt;@here&gt;');
  });
});
