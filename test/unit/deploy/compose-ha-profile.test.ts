import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';

// The high-availability compose profile cannot be run here (no Docker engine): this checks what the file says, as
// compose would read it (YAML merge keys resolved).
const service = z.looseObject({
  profiles: z.array(z.string()).optional(),
  image: z.string().optional(),
  environment: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
  volumes: z.array(z.string()).optional(),
  depends_on: z.record(z.string(), z.object({ condition: z.string() })).optional(),
  healthcheck: z.object({ test: z.array(z.string()) }).optional(),
});
const compose = z.looseObject({
  services: z.record(z.string(), service),
  volumes: z.record(z.string(), z.unknown()),
});

const file = compose.parse(parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }));
const replicas = ['pullgate-a', 'pullgate-b'].map((name) => {
  const s = file.services[name];
  if (s === undefined) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
});

describe('docker-compose.yml, profile ha', () => {
  it('has PostgreSQL, two replicas and nginx, all in the ha profile only', () => {
    for (const name of ['postgres', 'pullgate-a', 'pullgate-b', 'lb']) {
      expect(file.services[name]?.profiles).toEqual(['ha']);
    }
    expect(file.services.postgres?.image).toMatch(/^postgres:/);
    expect(file.services.lb?.image).toMatch(/^nginx:/);
    expect(file.services.pullgate?.profiles).toBeUndefined();
  });

  it('gives both replicas the one database, their own replica id and their own data volume', () => {
    const urls = replicas.map((r) => r.environment?.PULLGATE_DATABASE_URL);
    expect(urls[0]).toMatch(
      /^postgres:\/\/pullgate:\$\{PULLGATE_DB_PASSWORD[^}]*\}@postgres:5432\/pullgate$/,
    );
    expect(urls[1]).toBe(urls[0]);
    expect(replicas.map((r) => r.environment?.PULLGATE_REPLICA_ID)).toEqual(['pullgate-a', 'pullgate-b']);
    const dataVolumes = replicas.map((r) => r.volumes?.find((v) => v.endsWith(':/var/lib/pullgate')));
    expect(new Set(dataVolumes).size).toBe(2);
    for (const v of dataVolumes) expect(file.volumes).toHaveProperty(String(v).split(':')[0] ?? '');
  });

  it('health-checks every replica and the balancer on /readyz, and starts nginx once both replicas are healthy', () => {
    for (const r of [...replicas, file.services.lb])
      expect(r?.healthcheck?.test.join(' ')).toContain('/readyz');
    expect(file.services.lb?.depends_on).toEqual({
      'pullgate-a': { condition: 'service_healthy' },
      'pullgate-b': { condition: 'service_healthy' },
    });
    expect(file.services.lb?.volumes).toContain('./deploy/nginx.conf:/etc/nginx/nginx.conf:ro');
  });

  it('writes no password in the file', () => {
    const text = readFileSync('docker-compose.yml', 'utf8');
    expect(text).not.toMatch(/^\s*\w*PASSWORD\w*:\s*(?!\$\{)\S/m);
    expect(text).not.toMatch(/postgres:\/\/[^:]+:[^$]/);
  });
});
