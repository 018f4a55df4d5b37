/** Shannon entropy in bits per character (0 for the empty string). */
export function shannonEntropy(value: string): number {
  if (value.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const ch of value) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  const n = [...value].length;
  for (const count of counts.values()) {
    const p = count / n;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/** How many of lower-case letters, upper-case letters, digits and symbols the value uses (0–4). */
export function characterClasses(value: string): number {
  return (
    Number(/[a-z]/.test(value)) +
    Number(/[A-Z]/.test(value)) +
    Number(/[0-9]/.test(value)) +
    Number(/[^A-Za-z0-9]/.test(value))
  );
}

/**
 * A value that reads like a generated credential rather than a word, path or setting: long enough, one token,
 * and either several character classes or a high per-character entropy. Thresholds follow detect-secrets'
 * high-entropy plugins (base64 4.5 / hex 3.0 over whole strings) loosened for shorter values, because here
 * the variable name already says "key".
 */
export function looksGenerated(value: string): boolean {
  if (value.length < 16 || /\s/.test(value)) return false;
  const entropy = shannonEntropy(value);
  return (characterClasses(value) >= 2 && entropy >= 3.0) || entropy >= 3.5;
}
