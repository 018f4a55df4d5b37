import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { useSeededPullgate } from '../../helpers/seeded-pullgate.js';

// The shipped Grafana dashboard only queries metrics pullgate exports: a renamed metric would leave a panel
// silently empty.
const setup = useSeededPullgate();

interface Dashboard {
  panels: { title: string; targets: { expr: string }[] }[];
}

describe('deploy/grafana/pullgate.json', () => {
  it('queries only metrics that /metrics exports', async () => {
    const dashboard = JSON.parse(await readFile('deploy/grafana/pullgate.json', 'utf8')) as Dashboard;
    const exported = new Set(
      (await (await fetch(`${setup.pullgate.url}/metrics`)).text())
        .split('\n')
        .filter((l) => l.startsWith('# TYPE '))
        .map((l) => l.split(' ')[2]),
    );
    const used = dashboard.panels.flatMap((p) =>
      p.targets.flatMap((t) => [...t.expr.matchAll(/\bpullgate_[a-z_]+/g)].map((m) => m[0])),
    );
    expect(used.length).toBeGreaterThan(10);
    const missing = used.filter((name) => !exported.has(name.replace(/_bucket$/, '')));
    expect(missing).toEqual([]);
  });
});
