import { describe, expect, it } from 'vitest';
import { configSchema, loadConfig } from '../../../src/config/config.js';

// Config is inferred from one schema; what loadConfig assembles must be exactly that shape.
describe('configSchema', () => {
  it('accepts what loadConfig assembles from a minimal environment, unchanged', () => {
    const config = loadConfig({
      PULLGATE_DATA_DIR: '/tmp/pg-schema',
      PULLGATE_UPSTREAM: 'http://127.0.0.1:5000',
    });
    expect(configSchema.parse(config)).toEqual(config);
  });

  it('refuses a field the app does not read, so a misspelt one cannot be silently ignored', () => {
    const config = loadConfig({ PULLGATE_DATA_DIR: '/tmp/pg-schema' });
    const result = configSchema.safeParse({ ...config, cacheMaxByte: 1 });
    expect(result.success).toBe(false);
  });
});
