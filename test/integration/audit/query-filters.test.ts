import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog, type DecisionInput, queryDecisions, queryRecords } from '../../../src/audit/index.js';
import { makeTempDir, type TempDir } from '../../helpers/tmp.js';
import { decisionInput, digestN } from '../../unit/audit/sample-records.js';

let tmp: TempDir;
const start = Date.parse('2024-06-01T00:00:00Z');
const minute = 60_000;

const inputs: DecisionInput[] = [
  decisionInput({ requestId: 'a', repository: 'library/nginx', digest: digestN('nginx') }),
  decisionInput({
    requestId: 'b',
    repository: 'library/python',
    digest: digestN('py-index'),
    manifestDigests: [digestN('py-amd64'), digestN('py-arm64')],
    decision: 'deny',
    findings: [{ rule: 'secret-env', key: 'API_TOKEN', message: 'looks like a token' }],
    client: { address: '10.0.0.7', user: 'ci-bot' },
  }),
  decisionInput({
    requestId: 'c',
    repository: 'library/python',
    digest: digestN('py-amd64'),
    indexDigest: digestN('py-index'),
    decision: 'warn',
    findings: [{ rule: 'run-as-root', message: 'runs as root', mode: 'audit' }],
    method: 'GET',
  }),
  decisionInput({
    requestId: 'd',
    repository: 'library/nginx',
    digest: digestN('nginx'),
    decisionSource: 'cache',
  }),
];

beforeAll(async () => {
  tmp = await makeTempDir('audit-query');
  let clock = start;
  const log = await AuditLog.open({ dir: tmp.path, maxFileBytes: 1500, now: () => new Date(clock) });
  for (const input of inputs) {
    await log.append(input);
    clock += minute;
  }
  await log.append({
    type: 'review',
    actor: 'alice',
    action: 'approve',
    repository: 'library/nginx',
    tag: 'latest',
  });
  await log.close();
});
afterAll(() => tmp.cleanup());

const ids = async (filters: Parameters<typeof queryDecisions>[1]) =>
  (await queryDecisions(tmp.path, filters)).records.map((r) => r.requestId);

describe('queryDecisions filters', () => {
  it('returns decisions only, newest first, when unfiltered', async () => {
    expect(await ids({})).toEqual(['d', 'c', 'b', 'a']);
  });

  it('filters by repository', async () => {
    expect(await ids({ repository: 'library/python' })).toEqual(['c', 'b']);
  });

  it('filters by digest: the manifest, its index or a judged platform manifest', async () => {
    expect(await ids({ digest: digestN('py-index') })).toEqual(['c', 'b']);
    expect(await ids({ digest: digestN('py-arm64') })).toEqual(['b']);
    expect(await ids({ digest: digestN('nginx') })).toEqual(['d', 'a']);
  });

  it('filters by decision', async () => {
    expect(await ids({ decision: 'deny' })).toEqual(['b']);
    expect(await ids({ decision: 'allow' })).toEqual(['d', 'a']);
  });

  it('filters by rule', async () => {
    expect(await ids({ rule: 'run-as-root' })).toEqual(['c']);
    expect(await ids({ rule: 'tag-mutation' })).toEqual([]);
  });

  it('filters by client address or authenticated name', async () => {
    expect(await ids({ client: 'ci-bot' })).toEqual(['b']);
    expect(await ids({ client: '10.0.0.7' })).toEqual(['b']);
    expect(await ids({ client: '127.0.0.1' })).toEqual(['d', 'c', 'a']);
  });

  it('filters by time range, since inclusive and until exclusive', async () => {
    const since = new Date(start + minute).toISOString();
    const until = new Date(start + 3 * minute).toISOString();
    expect(await ids({ since, until })).toEqual(['c', 'b']);
  });

  it('combines filters', async () => {
    expect(
      await ids({ repository: 'library/python', decision: 'warn', digest: digestN('py-index') }),
    ).toEqual(['c']);
  });

  it('rejects a bad time or limit', async () => {
    await expect(queryDecisions(tmp.path, { since: 'yesterday' })).rejects.toThrow('invalid since');
    await expect(queryDecisions(tmp.path, { limit: 0 })).rejects.toThrow('invalid limit');
  });

  it('returns other record types through queryRecords', async () => {
    const page = await queryRecords(tmp.path, { types: ['review'] });
    expect(page.records).toMatchObject([{ type: 'review', actor: 'alice', seq: 5 }]);
  });
});
