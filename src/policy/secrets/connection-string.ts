import { isNotLiteral } from './placeholders.js';

// Connection strings in keyword=value form, where the secret is one of the pairs:
//   ADO.NET / OLE DB / ODBC   `Server=db;Database=app;User Id=sa;Password=…;`, `Driver={…};Uid=sa;Pwd={…};`
//   Azure Storage             `DefaultEndpointsProtocol=https;AccountName=…;AccountKey=…;EndpointSuffix=…`
//   Azure Service Bus, Event Hubs, IoT Hub, SignalR, Cosmos DB: `…;SharedAccessKey=…`, `…;AccessKey=…`,
//                             `…;AccountKey=…`, and `SharedAccessSignature=sv=…&sig=…`
//   libpq conninfo            `host=db port=5432 user=app password=… dbname=app` (space-separated)
//   StackExchange.Redis       `redis:6380,password=…,ssl=True`
// A string counts only when it has at least two pairs and one of its keywords is a connection keyword, so a
// shell command (`set -e; password=$(…)`) or prose with one `=` in it does not. Quoted (`'…'`, `"…"`) and ODBC
// braced (`{…}`) values may hold the separator. The scan is one pass over the (capped) text.

export type ConnectionStringCredential = { kind: string; description: string };

const MAX_PAIRS = 256;

/** Keywords that make a `;`-separated list a connection string (compared lower-case, spaces removed). */
const CONNECTION_KEYWORDS = new Set([
  'server',
  'datasource',
  'host',
  'hostname',
  'address',
  'addr',
  'networkaddress',
  'database',
  'initialcatalog',
  'dbname',
  'dbq',
  'uid',
  'userid',
  'user',
  'username',
  'driver',
  'dsn',
  'provider',
  'port',
  'defaultendpointsprotocol',
  'accountname',
  'endpointsuffix',
  'blobendpoint',
  'queueendpoint',
  'tableendpoint',
  'fileendpoint',
  'accountendpoint',
  'endpoint',
  'sharedaccesskeyname',
  'entitypath',
  'integratedsecurity',
  'trusted_connection',
  'trustedconnection',
  'encrypt',
  'sslmode',
  'version',
]);
const SECRET_KEYWORDS: Record<string, string> = {
  password: 'a connection string with a password',
  pwd: 'a connection string with a password',
  passwd: 'a connection string with a password',
  userpassword: 'a connection string with a password',
  accountkey: 'a connection string with an account key',
  sharedaccesskey: 'a connection string with a shared access key',
  sharedaccesssignature: 'a connection string with a shared access signature',
  accesskey: 'a connection string with an access key',
  primarykey: 'a connection string with an account key',
};
// libpq's keywords (PostgreSQL §34.1.2); the space-separated form is read only when every word is a pair.
const LIBPQ_KEYWORDS = new Set([
  'host',
  'hostaddr',
  'port',
  'dbname',
  'user',
  'password',
  'sslmode',
  'connect_timeout',
  'application_name',
  'options',
  'target_session_attrs',
  'sslrootcert',
  'sslcert',
  'sslkey',
]);

type Pair = { key: string; value: string };

export function findConnectionStringCredentials(text: string): ConnectionStringCredential | undefined {
  if (!text.includes('=')) return undefined;
  return judgePairs(splitPairs(text, ';')) ?? judgePairs(libpqPairs(text)) ?? judgePairs(redisPairs(text));
}

function judgePairs(runs: Pair[][]): ConnectionStringCredential | undefined {
  for (const run of runs) {
    if (run.length < 2 || !run.some((p) => CONNECTION_KEYWORDS.has(p.key))) continue;
    for (const { key, value } of run) {
      const description = SECRET_KEYWORDS[key];
      if (description !== undefined && !isNotLiteral(unwrap(value))) {
        return {
          kind:
            key === 'sharedaccesssignature'
              ? 'azure-shared-access-signature'
              : 'connection-string-credentials',
          description,
        };
      }
    }
  }
  return undefined;
}

/**
 * Splits on `separator` outside quotes and braces, and groups consecutive `key=value` pieces into runs: a
 * piece that is not a pair ends the run it is in.
 */
function splitPairs(text: string, separator: string): Pair[][] {
  const runs: Pair[][] = [];
  let run: Pair[] = [];
  let start = 0;
  let quote = '';
  let pieces = 0;
  const flush = (end: number) => {
    const pair = toPair(text.slice(start, end));
    if (pair) run.push(pair);
    else if (run.length > 0) {
      runs.push(run);
      run = [];
    }
    start = end + 1;
  };
  for (let i = 0; i < text.length && pieces < MAX_PAIRS; i++) {
    const c = text[i];
    if (quote !== '') {
      if (c === quote) quote = '';
    } else if ((c === '"' || c === "'" || c === '{') && endsWithEquals(text, start, i)) {
      // Only a value may be quoted: a quote elsewhere belongs to the text around the string.
      quote = c === '{' ? '}' : c;
    } else if (c === separator || c === '\n') {
      flush(i);
      pieces++;
    }
  }
  if (pieces < MAX_PAIRS) flush(text.length);
  if (run.length > 0) runs.push(run);
  return runs;
}

/** Whether the last non-blank character of `text[start, end)` is `=`. */
function endsWithEquals(text: string, start: number, end: number): boolean {
  let i = end - 1;
  while (i >= start && (text[i] === ' ' || text[i] === '\t')) i--;
  return i >= start && text[i] === '=';
}

// The keyword is the trailing words before `=`, so `--cs "Server=db;…` yields `Server`.
const KEY = /[A-Za-z][A-Za-z0-9 _.:-]{0,40}$/;

function toPair(piece: string): Pair | undefined {
  const eq = piece.indexOf('=');
  if (eq <= 0) return undefined;
  const key = KEY.exec(piece.slice(Math.max(0, eq - 48), eq).trimEnd())?.[0];
  if (key === undefined) return undefined;
  let value = piece.slice(eq + 1).trim();
  // The closing quote of the text the string sits in (`"Server=…;Password=p"`) is not part of the value.
  if (value[0] !== '"' && value[0] !== "'") value = trimTrailingQuotes(value);
  return { key: key.toLowerCase().replace(/\s+/g, ''), value };
}

function libpqPairs(text: string): Pair[][] {
  const words = text.trim().split(/\s+/, MAX_PAIRS);
  if (words.length < 2) return [];
  const pairs: Pair[] = [];
  for (const word of words) {
    const pair = toPair(word);
    if (pair === undefined || !LIBPQ_KEYWORDS.has(pair.key)) return [];
    pairs.push(pair);
  }
  return [pairs];
}

const REDIS_HOST = /^[A-Za-z0-9.-]{1,253}(?::\d{1,5})?$/;

function redisPairs(text: string): Pair[][] {
  const parts = text.trim().split(',', MAX_PAIRS);
  if (parts.length < 2 || !REDIS_HOST.test(parts[0] ?? '')) return [];
  const pairs: Pair[] = [{ key: 'host', value: parts[0] ?? '' }];
  for (const part of parts.slice(1)) {
    const pair = toPair(part);
    if (pair === undefined) return [];
    pairs.push(pair);
  }
  return [pairs];
}

function trimTrailingQuotes(value: string): string {
  let end = value.length;
  while (end > 0 && `"'\`\\`.includes(value[end - 1] ?? '')) end--;
  return value.slice(0, end);
}

/** Removes the quotes or ODBC braces around a value. */
function unwrap(value: string): string {
  const first = value[0];
  const last = value.at(-1);
  if (
    value.length >= 2 &&
    ((first === '{' && last === '}') || ((first === '"' || first === "'") && last === first))
  ) {
    return value.slice(1, -1);
  }
  return value;
}
