import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type Checkpoint,
  checkpointText,
  openCheckpoint,
  parseCheckpointText,
  signCheckpoint,
} from '../../../src/audit/checkpoint.js';

const hash = 'a'.repeat(64);
const checkpoint: Checkpoint = { origin: 'pullgate/replica-1/decisions', size: 42, hash };
const keys = generateKeyPairSync('ed25519');

describe('checkpoints (C2SP tlog-checkpoint)', () => {
  it('writes origin, decimal size and the base64 head hash, one per line', () => {
    expect(checkpointText(checkpoint)).toBe(
      `pullgate/replica-1/decisions\n42\n${Buffer.from(hash, 'hex').toString('base64')}\n`,
    );
  });

  it('reads back what it writes', () => {
    expect(parseCheckpointText(checkpointText(checkpoint))).toEqual({ ok: true, checkpoint });
  });

  it('signs with the origin as the key name and opens with the public key', () => {
    const note = signCheckpoint(checkpoint, keys.privateKey);
    expect(note.split('\n')[4]).toMatch(/^\u2014 pullgate\/replica-1\/decisions [A-Za-z0-9+/]+=*$/);
    expect(openCheckpoint(note, keys.publicKey)).toEqual({ ok: true, checkpoint, signed: true });
  });

  it('refuses a signed checkpoint opened with another public key', () => {
    const note = signCheckpoint(checkpoint, keys.privateKey);
    const other = generateKeyPairSync('ed25519').publicKey;
    expect(openCheckpoint(note, other)).toMatchObject({ ok: false, signature: true });
  });

  it('refuses a signed checkpoint whose size was changed', () => {
    const note = signCheckpoint(checkpoint, keys.privateKey).replace('\n42\n', '\n43\n');
    expect(openCheckpoint(note, keys.publicKey)).toMatchObject({ ok: false, signature: true });
  });

  it('refuses an unsigned checkpoint when a public key is given', () => {
    expect(openCheckpoint(checkpointText(checkpoint), keys.publicKey)).toMatchObject({
      ok: false,
      signature: true,
    });
  });

  it('reads an unsigned checkpoint without a key, marked unsigned', () => {
    expect(openCheckpoint(checkpointText(checkpoint))).toEqual({ ok: true, checkpoint, signed: false });
  });

  it('refuses a size with leading zeros and extension lines', () => {
    const b64 = Buffer.from(hash, 'hex').toString('base64');
    expect(parseCheckpointText(`o/x\n042\n${b64}\n`)).toMatchObject({ ok: false });
    expect(parseCheckpointText(`o/x\n42\n${b64}\nextra\n`)).toMatchObject({ ok: false });
  });
});
