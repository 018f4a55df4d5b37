import { describe, expect, it } from 'vitest';
import { auditInputSchema, auditRecordSchema } from '../../../src/audit/index.js';
import { decisionInput } from './sample-records.js';

// The log holds rule ids and variable names, never values: a value must not be able to ride in.
describe('audit record schema', () => {
  it('accepts a finding with a rule, a variable name and a message', () => {
    const input = decisionInput({
      decision: 'deny',
      findings: [
        { rule: 'secret-env', key: 'AWS_SECRET_ACCESS_KEY', message: 'looks like an AWS secret key' },
      ],
    });
    expect(auditInputSchema.safeParse(input).success).toBe(true);
  });

  it('rejects a finding that carries a value field', () => {
    const input = {
      ...decisionInput({ decision: 'deny' }),
      findings: [{ rule: 'secret-env', key: 'API_TOKEN', message: 'token', value: 'ghp_planted' }],
    };
    const parsed = auditInputSchema.safeParse(input);
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error?.issues)).not.toContain('ghp_planted');
  });

  it('rejects a key that is a NAME=value pair', () => {
    const input = decisionInput({
      findings: [{ rule: 'secret-env', key: 'API_TOKEN=ghp_planted', message: 'token' }],
    });
    expect(auditInputSchema.safeParse(input).success).toBe(false);
  });

  it('rejects unexpected fields at the top level and in nested objects', () => {
    expect(auditInputSchema.safeParse({ ...decisionInput(), env: { A: 'b' } }).success).toBe(false);
    const client = { address: '10.0.0.1', password: 'x' };
    expect(auditInputSchema.safeParse({ ...decisionInput(), client }).success).toBe(false);
  });

  it('does not let callers set the chain fields', () => {
    expect(auditInputSchema.safeParse({ ...decisionInput(), seq: 7 }).success).toBe(false);
    expect(auditInputSchema.safeParse({ ...decisionInput(), hash: 'a'.repeat(64) }).success).toBe(false);
  });

  it('requires the chain fields on a stored record', () => {
    const stored = {
      ...decisionInput(),
      v: 1,
      seq: 1,
      time: new Date(0).toISOString(),
      prev: '0'.repeat(64),
    };
    expect(auditRecordSchema.safeParse(stored).success).toBe(false);
    expect(auditRecordSchema.safeParse({ ...stored, hash: 'b'.repeat(64) }).success).toBe(true);
  });
});
