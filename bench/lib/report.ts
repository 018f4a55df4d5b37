import { type ColdResults, renderCold } from './cold-phase.js';
import type { HeadIndexResults, ManifestOnResults } from './decision-phases.js';
import type { DecisionQueryResults } from './decision-query.js';
import { renderDecisionQuery, renderHeadIndex, renderManifestOn } from './decision-report.js';
import type {
  BlobResults,
  CoalesceRound,
  Content,
  HeadResults,
  IdenticalPullResults,
  ManifestResults,
  PullCounts,
  Settings,
  SkopeoResults,
  TargetName,
} from './phases.js';
import { blobKey, TARGETS } from './phases.js';
import { fmt, max, median, medianRatio, mib, ratio } from './stats.js';

export interface BenchResults {
  meta: {
    startedAt: string;
    finishedAt: string;
    durationS: number;
    node: string;
    cpus: number;
    loadAvgStart: number[];
    loadAvgEnd: number[];
    settings: Settings;
    build: string;
    commit: string;
  };
  content?: Pick<Content, 'blobRepo'> & { blobSizes: number[]; skopeoBytes: number; coalesceBytes: number };
  manifest?: ManifestResults;
  head?: HeadResults;
  blobs?: BlobResults;
  cold?: ColdResults;
  identical?: IdenticalPullResults;
  skopeo?: SkopeoResults;
  coalesce?: CoalesceRound[];
  headIndex?: HeadIndexResults;
  manifestOn?: ManifestOnResults;
  decisions?: DecisionQueryResults;
  /** Wall time of each phase that ran, in seconds. */
  phaseS?: Record<string, number>;
  errors: { phase: string; message: string }[];
}

const LABEL: Record<TargetName, string> = {
  direct: 'direct upstream',
  proxy: 'distribution proxy',
  pullgate: 'pullgate',
};

function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

function verdict(ok: boolean | undefined): string {
  return ok === undefined ? '–' : ok ? '✅ met' : '❌ missed';
}

function sizeLabel(bytes: number): string {
  return `${bytes / 1048576} MiB`;
}

interface TargetRow {
  section: string;
  measure: string;
  target: string;
  result: string;
  ok: boolean | undefined;
}

export function renderMarkdown(r: BenchResults): string {
  const out: string[] = [];
  const targets: TargetRow[] = [];
  const m = r.meta;
  out.push(`# pullgate benchmark${m.settings.quick ? ' (--quick)' : ''}`);
  out.push('');
  out.push(
    `${m.startedAt}, ${m.durationS.toFixed(0)} s, Node ${m.node}, ${m.cpus} CPUs, load average ${m.loadAvgStart.map((x) => x.toFixed(1)).join('/')} at start and ${m.loadAvgEnd.map((x) => x.toFixed(1)).join('/')} at the end (other work shares this machine), commit ${m.commit}, build: ${m.build}.`,
  );
  out.push(
    `${m.settings.rounds} rounds; within each round the targets run back to back (direct, distribution proxy, pullgate). Figures are medians over rounds; ratios are medians of the per-round ratios. pullgate runs as its own process from \`dist/\` with \`npm start\`'s node flags (PULLGATE_TAG_TTL=30, log level warn); the load generator is a separate Node process (undici Pool, pipelining 1). Upstream: distribution 2.8.2; peer: the same binary with \`proxy.remoteurl\`.`,
  );
  out.push('');

  const sections: string[] = [];

  if (r.manifest !== undefined) {
    const mr = r.manifest;
    const rps = (t: TargetName) => mr[t].map((x) => x.rps);
    const vsDirect = medianRatio(rps('pullgate'), rps('direct'));
    const vsProxy = medianRatio(rps('pullgate'), rps('proxy'));
    const rows = TARGETS.map((t) => [
      LABEL[t],
      fmt(median(mr[t].map((x) => x.p50Ms)), 2),
      fmt(median(mr[t].map((x) => x.p99Ms)), 2),
      fmt(median(rps(t))),
      t === 'direct' ? '1.00×' : ratio(medianRatio(rps(t), rps('direct'))),
      t === 'proxy' ? '1.00×' : ratio(medianRatio(rps(t), rps('proxy'))),
    ]);
    const p50Ratio = medianRatio(
      mr.direct.map((x) => x.p50Ms),
      mr.pullgate.map((x) => x.p50Ms),
    );
    sections.push(
      [
        '## 1. Manifest GET by tag (within the tag window)',
        '',
        `Accept: OCI and Docker manifest and list types. Sequential: ${m.settings.seqCount} requests on one connection after 20 warm-up; concurrent: 50 connections for ${m.settings.throughputMs / 1000} s, 1 body in 50 hashed and every \`Docker-Content-Digest\` checked.`,
        '',
        table(
          ['target', 'seq p50 ms', 'seq p99 ms', 'req/s @50', 'req/s ÷ direct', 'req/s ÷ dist. proxy'],
          rows,
        ),
        '',
        `Sequential p50 speed (direct p50 ÷ pullgate p50): ${ratio(p50Ratio)}.`,
      ].join('\n'),
    );
    targets.push(
      {
        section: '1',
        measure: 'manifest GET by tag, req/s @50, ÷ direct',
        target: '≥ 0.75× (issue 2), ≥ 0.8× (issue 6)',
        result: ratio(vsDirect),
        ok: vsDirect >= 0.8,
      },
      {
        section: '1',
        measure: 'manifest GET by tag, req/s @50, ÷ distribution proxy',
        target: '≥ 4× (issue 6)',
        result: ratio(vsProxy),
        ok: vsProxy >= 4,
      },
    );
  }

  if (r.head !== undefined) {
    const h = r.head;
    const rows: string[][] = [];
    for (const v of ['off', 'policy', 'audit'] as const) {
      const err = h.startErrors[v];
      const known = v === 'off' ? true : h.toggleKnown[v];
      const note =
        err !== undefined
          ? `did not start: ${err}`
          : v === 'off'
            ? 'PULLGATE_POLICY_ENABLED=false, PULLGATE_AUDIT_ENABLED=false'
            : known
              ? `PULLGATE_${v.toUpperCase()}_ENABLED=true`
              : `PULLGATE_${v.toUpperCase()}_ENABLED=true — this build does not read the variable, so on = off`;
      rows.push([
        v === 'off' ? 'policies off, audit off' : v === 'policy' ? 'policies on' : 'audit log on',
        fmt(median(h.rps[v])),
        v === 'off' ? '1.00×' : ratio(medianRatio(h.rps[v], h.rps.off)),
        note,
      ]);
    }
    sections.push(
      [
        '## 2. HEAD by tag at 50 connections — pullgate against itself',
        '',
        'Three pullgate processes running side by side, measured in turn each round.',
        '',
        table(['pullgate', 'req/s @50', '÷ off', 'note'], rows),
      ].join('\n'),
    );
    for (const v of ['policy', 'audit'] as const) {
      const x = medianRatio(h.rps[v], h.rps.off);
      const note = h.toggleKnown[v] ? '' : ' (toggle not in this build: no effect yet)';
      targets.push({
        section: '2',
        measure: `HEAD by tag @50, ${v === 'policy' ? 'policies' : 'audit log'} on ÷ off`,
        target: '≥ 0.9×',
        result: `${ratio(x)}${note}`,
        ok: h.startErrors[v] !== undefined ? false : h.toggleKnown[v] ? x >= 0.9 : undefined,
      });
    }
  }

  if (r.blobs !== undefined && r.content !== undefined) {
    const b = r.blobs;
    const rows: string[][] = [];
    const rssRows: string[][] = [];
    let worstWarm = Number.POSITIVE_INFINITY;
    let worstCold = Number.POSITIVE_INFINITY;
    let rss8 = Number.NaN;
    let rss1 = Number.NaN;
    const biggest = Math.max(...r.content.blobSizes);
    for (const size of r.content.blobSizes) {
      for (const streams of m.settings.streams) {
        const c = b[blobKey(size, streams)];
        if (c === undefined) continue;
        const warmVsDirect = medianRatio(c.pullgateWarm, c.direct);
        const coldVsProxy = medianRatio(c.pullgateCold, c.proxyCold);
        worstWarm = Math.min(worstWarm, warmVsDirect);
        if (streams === 1) worstCold = Math.min(worstCold, coldVsProxy);
        rows.push([
          sizeLabel(size),
          String(streams),
          fmt(median(c.direct), 0),
          fmt(median(c.proxyCold), 0),
          fmt(median(c.proxyWarm), 0),
          fmt(median(c.pullgateCold), 0),
          fmt(median(c.pullgateWarm), 0),
          ratio(warmVsDirect),
          ratio(medianRatio(c.pullgateCold, c.direct)),
          ratio(coldVsProxy),
          ratio(medianRatio(c.pullgateWarm, c.proxyWarm)),
        ]);
        rssRows.push([
          sizeLabel(size),
          String(streams),
          mib(max(c.rssIdle)),
          mib(max(c.rssCold)),
          mib(max(c.rssWarm)),
        ]);
        if (size === biggest && streams === 8) rss8 = Math.max(max(c.rssCold), max(c.rssWarm));
        if (size === biggest && streams === 1) rss1 = Math.max(max(c.rssCold), max(c.rssWarm));
      }
    }
    sections.push(
      [
        '## 3. Blobs by digest (MB/s, 10^6 bytes, all streams together)',
        '',
        'Random, incompressible blobs pushed with the registry HTTP API. Cold: a fresh pullgate data dir / fresh proxy storage; warm: the next pull from the same process. With 8 streams all streams fetch the same blob at once; the load generator hashes one stream in full and counts the bytes of the others.',
        '',
        table(
          [
            'blob',
            'streams',
            'direct',
            'proxy cold',
            'proxy warm',
            'pullgate cold',
            'pullgate warm',
            'pg warm ÷ direct',
            'pg cold ÷ direct',
            'pg cold ÷ proxy cold',
            'pg warm ÷ proxy warm',
          ],
          rows,
        ),
      ].join('\n'),
    );
    sections.push(
      [
        '## 4. pullgate peak RSS (VmHWM, worst round)',
        '',
        'Cold: a freshly started process (the restart resets the peak). Warm: the same process after the cold pull, its peak reset through `/proc/<pid>/clear_refs` (5) just before.',
        '',
        table(['blob', 'streams', 'idle, before the pull', 'cold', 'warm'], rssRows),
      ].join('\n'),
    );
    targets.push(
      {
        section: '3',
        measure: 'warm blobs ÷ direct (worst of sizes × streams)',
        target: '≥ 0.6×',
        result: ratio(worstWarm),
        ok: worstWarm >= 0.6,
      },
      {
        section: '3',
        measure: 'cold single-stream blob ÷ distribution proxy cold (worst size)',
        target: '≥ 1.0×',
        result: ratio(worstCold),
        ok: worstCold >= 1.0,
      },
      {
        section: '4',
        measure: `peak RSS, 8 concurrent ${sizeLabel(biggest)} pulls`,
        target: '< 150 MiB',
        result: mib(rss8),
        ok: rss8 < 150 * 1048576,
      },
      {
        section: '4',
        measure: `peak RSS, one ${sizeLabel(biggest)} stream`,
        target: '< 150 MiB',
        result: mib(rss1),
        ok: rss1 < 150 * 1048576,
      },
    );
  }

  if (r.cold !== undefined) {
    const cold = renderCold(r.cold);
    sections.push(cold.section);
    targets.push(...cold.targets);
  }

  if (r.identical !== undefined) {
    const rows = TARGETS.map((t) => {
      const c = r.identical?.[t] ?? emptyCounts();
      return [
        LABEL[t],
        String(c.total),
        String(c.manifestGet),
        String(c.manifestHead),
        String(c.blobGet),
        String(c.blobHead),
        String(c.other),
        String(c.failedPulls),
      ];
    });
    sections.push(
      [
        `## 5. Upstream requests per ${m.settings.identicalPulls} identical pulls`,
        '',
        'One pull = manifest by tag, then the config and two layers; pulls in sequence, the proxy and pullgate started cold. Counted from the upstream registry’s access log (for "direct", these are the pulls themselves).',
        '',
        table(
          [
            'target',
            'total',
            'manifest GET',
            'manifest HEAD',
            'blob GET',
            'blob HEAD',
            'other',
            'failed pulls',
          ],
          rows,
        ),
      ].join('\n'),
    );
  }

  if (r.skopeo !== undefined && r.content !== undefined) {
    const s = r.skopeo;
    const rows = TARGETS.map((t) => [
      LABEL[t],
      fmt(median(s[t].cold) / 1000, 2),
      fmt(median(s[t].warm) / 1000, 2),
      ratio(medianRatio(s.direct.cold, s[t].cold)),
      ratio(medianRatio(s.direct.warm, s[t].warm)),
    ]);
    sections.push(
      [
        `## 6. \`skopeo copy\` of a 3-layer image (3 × ${sizeLabel(r.content.skopeoBytes)} tar layers) to an OCI layout`,
        '',
        'Speed ratios are direct time ÷ target time (above 1 = faster than direct).',
        '',
        table(['target', 'cold s', 'warm s', 'cold speed ÷ direct', 'warm speed ÷ direct'], rows),
      ].join('\n'),
    );
  }

  if (r.coalesce !== undefined) {
    const worst = (t: 'proxy' | 'pullgate') => {
      const rounds = r.coalesce ?? [];
      const perBlob = rounds.map((x) => Object.values(x[t].blobGetsByDigest));
      return {
        manifestGet: rounds.map((x) => x[t].manifestGet),
        manifestHead: rounds.map((x) => x[t].manifestHead),
        blobMin: perBlob.map((xs) => (xs.length === 0 ? 0 : Math.min(...xs))),
        blobMax: perBlob.map((xs) => (xs.length === 0 ? 0 : Math.max(...xs))),
        blobsSeen: perBlob.map((xs) => xs.length),
        failed: rounds.map((x) => x[t].failedPulls),
        firstError: rounds.map((x) => x[t].firstError).find((e) => e !== undefined),
      };
    };
    const rows = (['proxy', 'pullgate'] as const).map((t) => {
      const w = worst(t);
      return [
        LABEL[t],
        w.manifestGet.join(', '),
        w.manifestHead.join(', '),
        w.blobMin.map((lo, i) => `${lo}–${w.blobMax[i]}`).join(', '),
        `${w.failed.join(', ')}${w.firstError === undefined ? '' : ` (first: ${w.firstError})`}`,
      ];
    });
    sections.push(
      [
        `## 7. ${m.settings.coalescePulls} concurrent cold pulls of one image (config + 3 × ${sizeLabel(r.content?.coalesceBytes ?? 0)} layers)`,
        '',
        'Upstream requests from the access log, one value per round.',
        '',
        table(
          [
            'target',
            'manifest GETs',
            'manifest HEADs',
            'GETs per blob (min–max over the 4 blobs)',
            'failed pulls',
          ],
          rows,
        ),
      ].join('\n'),
    );
    const pg = worst('pullgate');
    const ok =
      pg.manifestGet.every((x) => x === 1) &&
      pg.blobMax.every((x) => x === 1) &&
      pg.blobMin.every((x) => x === 1) &&
      pg.blobsSeen.every((x) => x === 4) &&
      pg.failed.every((x) => x === 0);
    targets.push({
      section: '7',
      measure: `${m.settings.coalescePulls} concurrent cold pulls: upstream GETs per manifest / per blob`,
      target: 'exactly 1 each',
      result: `manifest ${pg.manifestGet.join(',')}; blobs ${pg.blobMin.map((lo, i) => `${lo}–${pg.blobMax[i]}`).join(',')}`,
      ok,
    });
  }

  for (const part of [
    r.headIndex === undefined ? undefined : renderHeadIndex(r.headIndex, '8'),
    r.manifestOn === undefined ? undefined : renderManifestOn(r.manifestOn, '9'),
    r.decisions === undefined ? undefined : renderDecisionQuery(r.decisions, '10'),
  ]) {
    if (part === undefined) continue;
    sections.push(part.section);
    targets.push(...part.targets);
  }
  if (r.phaseS !== undefined) {
    sections.push(
      [
        '## Phase times',
        '',
        table(
          ['phase', 'seconds'],
          Object.entries(r.phaseS).map(([name, s]) => [name, s.toFixed(0)]),
        ),
      ].join('\n'),
    );
  }

  out.push('## Targets');
  out.push('');
  out.push(
    table(
      ['§', 'measure', 'target', 'result', ''],
      targets.map((t) => [t.section, t.measure, t.target, t.result, verdict(t.ok)]),
    ),
  );
  out.push('');
  out.push(sections.join('\n\n'));
  if (r.errors.length > 0) {
    out.push('');
    out.push('## Errors');
    out.push('');
    for (const e of r.errors) out.push(`- ${e.phase}: ${e.message}`);
  }
  out.push('');
  return out.join('\n');
}

function emptyCounts(): PullCounts {
  return {
    failedPulls: 0,
    total: 0,
    manifestGet: 0,
    manifestHead: 0,
    blobGet: 0,
    blobHead: 0,
    other: 0,
    blobGetsByDigest: {},
  };
}
