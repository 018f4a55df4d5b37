import { describe, expect, it } from 'vitest';
import { imageConfigSchema, imageFacts, parseEnvEntry } from '../../../../src/policy/facts.js';

describe('imageFacts', () => {
  it('reads the judged parts of a Docker image config, nulls and all', () => {
    const facts = imageFacts({
      architecture: 'amd64',
      os: 'linux',
      created: '2024-01-01T00:00:00Z',
      container_config: { User: 'ignored' },
      config: {
        User: '1000',
        Env: ['PATH=/usr/bin', 'OPTS=a=b', 'BARE'],
        Entrypoint: null,
        Cmd: ['nginx', '-g', 'daemon off;'],
        ExposedPorts: { '80/tcp': {} },
        Labels: null,
        Volumes: null,
      },
      history: [
        { created_by: '/bin/sh -c #(nop)  CMD ["nginx"]', empty_layer: true },
        { comment: 'no created_by' },
      ],
      rootfs: { type: 'layers', diff_ids: [] },
    });
    expect(facts).toEqual({
      user: '1000',
      env: [
        { name: 'PATH', value: '/usr/bin' },
        { name: 'OPTS', value: 'a=b' },
        { name: 'BARE', value: '' },
      ],
      entrypoint: [],
      cmd: ['nginx', '-g', 'daemon off;'],
      exposedPorts: ['80/tcp'],
      labels: {},
      history: [
        { index: 0, createdBy: '/bin/sh -c #(nop)  CMD ["nginx"]', emptyLayer: true },
        { index: 1, createdBy: '', emptyLayer: false },
      ],
      created: '2024-01-01T00:00:00Z',
      os: 'linux',
      architecture: 'amd64',
    });
  });

  it('accepts a config with no runtime config or history', () => {
    const facts = imageFacts({ architecture: 'arm64', os: 'linux' });
    expect(facts.user).toBeUndefined();
    expect(facts.env).toEqual([]);
    expect(facts.history).toEqual([]);
  });

  it('keeps unknown fields when parsing', () => {
    const parsed = imageConfigSchema.parse({
      config: { User: '1', Healthcheck: { Test: ['NONE'] } },
      extra: 1,
    });
    expect(parsed).toMatchObject({ extra: 1, config: { Healthcheck: { Test: ['NONE'] } } });
  });

  it.each([[null], [[]], ['text'], [{ config: { Env: 'A=1' } }], [{ history: [{ created_by: 5 }] }]])(
    'rejects %j',
    (doc) => {
      expect(() => imageFacts(doc)).toThrow();
    },
  );

  it('splits Env entries at the first =', () => {
    expect(parseEnvEntry('A=b=c')).toEqual({ name: 'A', value: 'b=c' });
    expect(parseEnvEntry('A=')).toEqual({ name: 'A', value: '' });
  });
});
