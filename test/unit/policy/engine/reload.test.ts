import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { PolicyEngine, type ReloadResult } from '../../../../src/policy/loader/engine.js';
import { PolicyLoadError } from '../../../../src/policy/loader/load.js';
import { policy } from './fixtures.js';

// Not test/helpers/tmp.ts: its process-exit safety net also runs on SIGHUP, which this test sends.
interface Dir {
  path: string;
}
let dir: Dir | undefined;
let engine: PolicyEngine | undefined;
afterEach(async () => {
  engine?.close();
  if (dir !== undefined) await rm(dir.path, { recursive: true, force: true });
});

async function makeTempDir(label: string): Promise<Dir> {
  return { path: await mkdtemp(join(tmpdir(), `pullgate-test-${label}-`)) };
}

const write = (name: string, doc: unknown) =>
  writeFile(join(dir?.path ?? '', name), typeof doc === 'string' ? doc : stringify(doc));

// Reload applies valid files; files that fail validation leave the policies in force and say why.
describe('PolicyEngine reload', () => {
  it('refuses to start on invalid files', async () => {
    dir = await makeTempDir('policy-reload');
    await write('a.yaml', policy('a', { rules: { 'run-as-root': { mode: 'bogus' } } }));
    await expect(PolicyEngine.create({ dir: dir.path })).rejects.toBeInstanceOf(PolicyLoadError);
  });

  it('a valid reload applies, an invalid one keeps the version in force', async () => {
    dir = await makeTempDir('policy-reload');
    await write('a.yaml', policy('a', { rules: { 'run-as-root': { mode: 'enforce' } } }));
    const results: ReloadResult[] = [];
    engine = await PolicyEngine.create({ dir: dir.path, onReload: (r) => results.push(r) });
    const first = engine.version;

    await write('a.yaml', policy('a', { rules: { 'run-as-root': { mode: 'audit' } } }));
    const ok = await engine.reload();
    expect(ok).toMatchObject({ ok: true, previous: first, changed: true, policies: 1 });
    expect(engine.version).not.toBe(first);
    expect(engine.current.policies[0]?.rules['run-as-root']?.mode).toBe('audit');
    const second = engine.version;

    await write('b.yaml', 'apiVersion: pullgate/v1\nkind: Policy\nname: a\n');
    const bad = await engine.reload();
    expect(bad.ok).toBe(false);
    expect(bad.version).toBe(second);
    expect(bad.ok ? '' : bad.message).toContain('b.yaml: name: policy name "a" is already used by a.yaml');
    expect(engine.version).toBe(second);
    expect(results.map((r) => r.ok)).toEqual([true, false]);

    await rm(join(dir.path, 'b.yaml'));
    expect(await engine.reload()).toMatchObject({ ok: true, version: second, changed: false });
  });

  it('reloads by itself when a file changes, and on SIGHUP', async () => {
    dir = await makeTempDir('policy-reload');
    await write('a.yaml', policy('a', { rules: { 'secret-env': { mode: 'enforce' } } }));
    const seen: ReloadResult[] = [];
    let notify: () => void = () => {};
    engine = await PolicyEngine.create({
      dir: dir.path,
      watch: true,
      debounceMs: 50,
      onReload: (r) => {
        seen.push(r);
        notify();
      },
    });
    const first = engine.version;
    const next = () =>
      new Promise<void>((resolve) => {
        notify = resolve;
      });
    let reloaded = next();
    await write('a.yaml', policy('a', { rules: { 'secret-env': { mode: 'audit' } } }));
    await reloaded;
    expect(engine.version).not.toBe(first);
    expect(engine.current.policies[0]?.rules['secret-env']?.mode).toBe('audit');

    reloaded = next();
    process.kill(process.pid, 'SIGHUP');
    await reloaded;
    expect(seen.at(-1)).toMatchObject({ ok: true, changed: false });
  });
});
