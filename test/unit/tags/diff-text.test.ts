import { describe, expect, it } from 'vitest';
import { renderDiff } from '../../../src/cli/diff-text.js';

describe('pullgate alerts show: the diff as text', () => {
  it('prints both values of each change, env by name only', () => {
    const lines = renderDiff({
      oldDigest: 'sha256:a',
      newDigest: 'sha256:b',
      platformsAdded: [],
      platformsRemoved: [],
      platforms: [
        {
          platform: 'linux/amd64',
          oldDigest: 'sha256:a',
          newDigest: 'sha256:b',
          user: { from: '1000', to: null },
          cmd: { from: ['serve'], to: ['serve', '--debug'] },
          labels: { added: { team: 'web' }, removed: [], changed: { version: { from: '1', to: '2' } } },
          env: { added: ['API_KEY'], removed: [], changed: [] },
          layers: { added: ['sha256:l2'], removed: ['sha256:l1'], sizes: { 'sha256:l2': 2048 } },
        },
      ],
    });
    expect(lines).toEqual([
      'linux/amd64:',
      '  user: "1000" → (none) (now runs as root)',
      '  cmd: ["serve"] → ["serve","--debug"]',
      '  label added: team="web"',
      '  label version: "1" → "2"',
      '  env added: API_KEY',
      '  layer added: sha256:l2 (2048 bytes)',
      '  layer removed: sha256:l1',
    ]);
  });
});
