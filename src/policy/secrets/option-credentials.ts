import { judgeNamedValue } from './named-value.js';
import { isNotLiteral } from './placeholders.js';

// Credentials passed as command-line options, inside a variable that holds options (JAVA_OPTS, MAVEN_OPTS,
// CMD_ARGS …) or typed into a RUN command:
//   Java system properties     -Djavax.net.ssl.trustStorePassword=…, -Dgpg.passphrase=…, -Dsonar.token=…
//   long options               --password=…, --db-password=…, --api-key=…  (and `--password …` in *_OPTS)
//   MySQL-style short option   -p… attached (`-uroot -ps3cret`), in *_OPTS / *_ARGS only
// The option's own name is judged like a variable name (named-value.ts), so `-Dx.password.file=/run/…`,
// `--password-stdin` and `--token-ttl=60` are not findings. Words are split as a shell would (quotes removed).

export type OptionCredential = { kind: 'option-credentials'; description: string };

export type OptionScan = {
  /** Also read `--name value` pairs and attached `-p…`: only when the variable says it holds options. */
  separated: boolean;
  shell: boolean;
};

const MAX_WORDS = 4096;
const SYSTEM_PROPERTY = /^-D([A-Za-z_][A-Za-z0-9_.-]{0,127})=/;
const LONG_OPTION = /^--([A-Za-z][A-Za-z0-9_.-]{0,127})(?:=|$)/;
// gcc/ld-style flags that begin with -p and are not passwords.
const NOT_PASSWORDS = new Set(['thread', 'threads', 'ipe', 'ie', 'edantic', 'rofile', 'g', 'arallel']);

export function findOptionCredentials(text: string, scan: OptionScan): OptionCredential | undefined {
  if (!text.includes('-')) return undefined;
  const words = shellWords(text);
  for (const [i, word] of words.entries()) {
    const property = SYSTEM_PROPERTY.exec(word);
    if (property) {
      const found = judge(property[1] ?? '', word.slice(property[0].length), scan.shell);
      if (found) return found;
      continue;
    }
    const long = LONG_OPTION.exec(word);
    if (long) {
      const name = long[1] ?? '';
      if (/^no-/i.test(name)) continue;
      const attached = word.includes('=');
      const next = words[i + 1];
      const value = attached
        ? word.slice(word.indexOf('=') + 1)
        : scan.separated && next !== undefined && !next.startsWith('-')
          ? next
          : undefined;
      if (value === undefined) continue;
      const found = judge(name, value, scan.shell);
      if (found) return found;
      continue;
    }
    if (scan.separated && word.startsWith('-p') && word.length > 3) {
      const value = word.slice(2);
      if (NOT_PASSWORDS.has(value) || /^[=\d./:~]/.test(value) || isNotLiteral(value)) continue;
      return { kind: 'option-credentials', description: 'a command-line option with a password' };
    }
  }
  return undefined;
}

function judge(name: string, value: string, shell: boolean): OptionCredential | undefined {
  const match = judgeNamedValue(name, value, shell);
  if (match === undefined) return undefined;
  const what =
    match.kind === 'password-under-secret-name'
      ? 'a password'
      : match.kind === 'token-under-secret-name'
        ? 'a token'
        : 'a key';
  return { kind: 'option-credentials', description: `a command-line option with ${what}` };
}

/** Splits like a POSIX shell does for words: whitespace outside quotes, quotes removed, `\x` escapes kept. */
export function shellWords(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote = '';
  for (let i = 0; i < text.length && words.length < MAX_WORDS; i++) {
    const c = text[i] ?? '';
    if (quote !== '') {
      if (c === quote) quote = '';
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord && words.length < MAX_WORDS) words.push(word);
  return words;
}
