import { describe, expect, it } from 'vitest';
import { nowRunsAsRoot, raiseSeverity, severityReasons } from '../../../src/tags/severity.js';

describe('alert severity', () => {
  it('says "now runs as root" only for a move from non-root to root', () => {
    expect(nowRunsAsRoot({ from: '1000:1000', to: null })).toBe(true);
    expect(nowRunsAsRoot({ from: 'app', to: '0:0' })).toBe(true);
    expect(nowRunsAsRoot({ from: 'root', to: '0' })).toBe(false);
    expect(nowRunsAsRoot({ from: null, to: '1000' })).toBe(false);
  });

  it('finds a policy refusal and a new root user as reasons', () => {
    const diff = {
      platforms: [
        { platform: 'linux/amd64', oldDigest: 'a', newDigest: 'b', user: { from: '1000', to: '' } },
      ],
    };
    expect(severityReasons(diff, { decision: 'deny', findings: [] })).toEqual([
      'refused-by-policy',
      'now-runs-as-root',
    ]);
    expect(severityReasons({ platforms: [] }, { decision: 'allow' })).toEqual([]);
  });

  it('raises one step per reason, to at least high, capped at critical', () => {
    expect(raiseSeverity('low', [])).toBe('low');
    expect(raiseSeverity('low', ['now-runs-as-root'])).toBe('high');
    expect(raiseSeverity('high', ['refused-by-policy'])).toBe('critical');
    expect(raiseSeverity('high', ['refused-by-policy', 'now-runs-as-root'])).toBe('critical');
  });
});
