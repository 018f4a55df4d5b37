// Reads the variables an image's build left in `history[].created_by`. The forms, as builders write them:
//   classic builder RUN with build args   `|2 A=1 B=2 /bin/sh -c cmd`        (moby builder/dockerfile dispatchers.go)
//   BuildKit RUN with build args          `RUN |2 A=1 B=2 /bin/sh -c cmd # buildkit`
//   classic ENV / ARG                     `/bin/sh -c #(nop)  ENV A=1 B=2`, `#(nop) ARG A=1`, legacy `ENV A 1`
//   BuildKit ENV / ARG                    `ENV A=1`, `ARG A=1`
//   assignments inside the RUN command    `/bin/sh -c TOKEN=abc ./build.sh`, `export TOKEN=abc; …`
// Build-arg values are written raw, unquoted, and may hold spaces (GPG_KEYS="A B C"), so a value runs until
// the next `NAME=` word or the shell that starts the command.

export type AssignmentSource = 'build-arg' | 'env' | 'arg' | 'run';
export type HistoryAssignment = { name: string; value: string; source: AssignmentSource };
export type ParsedCreatedBy = {
  assignments: HistoryAssignment[];
  /** The shell command text of a RUN step, when there is one. */
  command: string | undefined;
};

/** created_by lines are short in practice; a longer one is cut so parsing stays cheap. */
export const MAX_CREATED_BY_LENGTH = 262_144;

const BUILDKIT_SUFFIX = /\s+#\s*buildkit\s*$/;
const INSTRUCTION = /^(RUN|ENV|ARG)\s+/;
const BUILD_ARG_COUNT = /^\|(\d{1,4})\s+/;
const SHELL_AT_START =
  /^(?:(?:\/[\w.-]+)*\/)?(?:(?:ba|da|a|z|k|mk)?sh|busybox\s+sh)\s+(?:-[A-Za-z]+\s+){0,4}?-[A-Za-z]*c\s+|^cmd(?:\.exe)?\s+\/S\s+\/C\s+|^(?:powershell|pwsh)(?:\.exe)?\s+(?:-\w+\s+){0,4}?-Command\s+/i;
const SHELL_IN_TEXT =
  /\s(?:(?:\/[\w.-]+)*\/)?(?:(?:ba|da|a|z|k|mk)?sh|busybox\s+sh)\s+(?:-[A-Za-z]+\s+){0,4}?-[A-Za-z]*c\s|\scmd(?:\.exe)?\s+\/S\s+\/C\s|\s(?:powershell|pwsh)(?:\.exe)?\s+(?:-\w+\s+){0,4}?-Command\s/i;
const NOP = /^#\(nop\)\s*/;
const ASSIGNMENT_START = /(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=/g;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function parseCreatedBy(createdBy: string): ParsedCreatedBy {
  let s = (
    createdBy.length > MAX_CREATED_BY_LENGTH ? createdBy.slice(0, MAX_CREATED_BY_LENGTH) : createdBy
  ).trim();
  s = s.replace(BUILDKIT_SUFFIX, '');
  const instruction = INSTRUCTION.exec(s);
  if (instruction?.[1] === 'ENV' || instruction?.[1] === 'ARG') {
    return {
      assignments: instructionAssignments(instruction[1], s.slice(instruction[0].length)),
      command: undefined,
    };
  }
  const isRun = instruction?.[1] === 'RUN';
  if (isRun && instruction) s = s.slice(instruction[0].length).trimStart();

  const assignments: HistoryAssignment[] = [];
  let command: string | undefined;
  const count = BUILD_ARG_COUNT.exec(s);
  if (count) {
    const rest = s.slice(count[0].length);
    const shell = SHELL_IN_TEXT.exec(rest);
    let argText: string;
    if (shell) {
      argText = rest.slice(0, shell.index);
      command = rest.slice(shell.index + shell[0].length);
    } else {
      // Exec-form RUN: no shell to stop at, so take the N announced `NAME=value` words.
      const words = rest.split(/\s+/);
      const n = Number(count[1]);
      let taken = 0;
      while (taken < words.length && taken < n && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[taken] ?? ''))
        taken++;
      argText = words.slice(0, taken).join(' ');
      command = words.slice(taken).join(' ');
    }
    for (const a of splitAssignments(argText)) assignments.push({ ...a, source: 'build-arg' });
  } else {
    const shell = SHELL_AT_START.exec(s);
    if (shell) command = s.slice(shell[0].length);
    else if (isRun) command = s;
  }
  if (command === undefined) return { assignments, command };
  const nop = NOP.exec(command);
  if (nop) {
    const body = command.slice(nop[0].length);
    const inner = INSTRUCTION.exec(body);
    if (inner?.[1] === 'ENV' || inner?.[1] === 'ARG') {
      assignments.push(...instructionAssignments(inner[1], body.slice(inner[0].length)));
    }
    return { assignments, command: undefined };
  }
  for (const a of shellAssignments(command)) assignments.push({ ...a, source: 'run' });
  return { assignments, command };
}

function instructionAssignments(keyword: 'ENV' | 'ARG', text: string): HistoryAssignment[] {
  const source: AssignmentSource = keyword === 'ENV' ? 'env' : 'arg';
  const trimmed = text.trim();
  const first = /^([A-Za-z_][A-Za-z0-9_]*)(=|\s+|$)/.exec(trimmed);
  if (first === null) return [];
  if (first[2] !== '=') {
    // Legacy `ENV NAME value with spaces`; `ARG NAME` without a default has no value.
    const value = trimmed.slice(first[0].length);
    return keyword === 'ENV' && first[1] !== undefined ? [{ name: first[1], value, source }] : [];
  }
  return splitAssignments(trimmed).map((a) => ({ ...a, source }));
}

/** `A=1 B=two words C="q"` → A, B, C; each value runs to the next `NAME=` word. */
export function splitAssignments(text: string): { name: string; value: string }[] {
  const starts = [...text.matchAll(ASSIGNMENT_START)];
  return starts.map((m, i) => {
    const valueStart = (m.index ?? 0) + m[0].length;
    const next = starts[i + 1];
    const valueEnd = next === undefined ? text.length : (next.index ?? text.length);
    return { name: m[1] ?? '', value: unquote(text.slice(valueStart, valueEnd).trim()) };
  });
}

function unquote(value: string): string {
  const first = value[0];
  if (value.length >= 2 && (first === '"' || first === "'") && value.endsWith(first)) {
    const inner = value.slice(1, -1);
    return first === '"' ? inner.replace(/\\(["\\$`])/g, '$1') : inner;
  }
  return value;
}

const DECLARATION_WORDS = new Set(['export', 'readonly', 'local', 'declare', 'typeset', 'env']);
const COMMAND_PREFIX_WORDS = new Set([
  'then',
  'do',
  'else',
  'elif',
  'if',
  'while',
  'until',
  'time',
  '!',
  '{',
  '}',
]);
const OPERATOR_CHARS = new Set([';', '&', '|', '(', ')', '\n']);
const REDIRECT_CHARS = new Set(['<', '>']);

type Word = { text: string; assignment: { name: string; value: string } | undefined };

/**
 * Variable assignments a POSIX shell command makes (Shell Command Language §2.9.1: assignments before the
 * command name, and `export NAME=value`). Quotes are removed as the shell would; `$…` is kept so the caller
 * can tell an expansion from a literal. A word inside quotes, such as `"PASS=x"`, is not an assignment.
 */
export function shellAssignments(command: string): { name: string; value: string }[] {
  const out: { name: string; value: string }[] = [];
  const n = command.length;
  let i = 0;
  let atCommandStart = true;
  let declaring = false;
  while (i < n) {
    const c = command[i] ?? '';
    if (c === '\n' || OPERATOR_CHARS.has(c)) {
      i++;
      atCommandStart = true;
      declaring = false;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if (c === '\\' && command[i + 1] === '\n') {
      i += 2;
      continue;
    }
    if (REDIRECT_CHARS.has(c)) {
      while (i < n && (REDIRECT_CHARS.has(command[i] ?? '') || command[i] === '&')) i++;
      continue;
    }
    if (c === '#') {
      while (i < n && command[i] !== '\n') i++;
      continue;
    }
    const [word, next] = readWord(command, i);
    i = next;
    if (word.assignment && (atCommandStart || declaring)) {
      out.push(word.assignment);
      continue;
    }
    if (atCommandStart && DECLARATION_WORDS.has(word.text)) {
      declaring = true;
      atCommandStart = false;
      continue;
    }
    if (atCommandStart && COMMAND_PREFIX_WORDS.has(word.text)) continue;
    atCommandStart = false;
  }
  return out;
}

function readWord(command: string, start: number): [Word, number] {
  const n = command.length;
  let i = start;
  let text = '';
  // The text before the first unquoted `=`, when that is an identifier, makes the word an assignment.
  let assignName: string | undefined;
  let assignAt = -1;
  let quoted = false;
  while (i < n) {
    const c = command[i] ?? '';
    if (c === ' ' || c === '\t' || c === '\r' || OPERATOR_CHARS.has(c) || REDIRECT_CHARS.has(c)) break;
    if (c === '\\') {
      if (command[i + 1] === '\n') {
        i += 2;
        continue;
      }
      quoted = true;
      text += command[i + 1] ?? '';
      i += 2;
      continue;
    }
    if (c === "'") {
      quoted = true;
      const end = command.indexOf("'", i + 1);
      const stop = end < 0 ? n : end;
      text += command.slice(i + 1, stop);
      i = stop + 1;
      continue;
    }
    if (c === '"') {
      quoted = true;
      i++;
      while (i < n && command[i] !== '"') {
        if (command[i] === '\\' && i + 1 < n && '"\\$`\n'.includes(command[i + 1] ?? '')) {
          if (command[i + 1] !== '\n') text += command[i + 1];
          i += 2;
        } else {
          text += command[i];
          i++;
        }
      }
      i++;
      continue;
    }
    if (c === '$' && command[i + 1] === '(') {
      // Command substitution: keep it whole, spaces and all, so `$(mktemp -d)` stays one word.
      let depth = 0;
      const begin = i;
      i++;
      while (i < n) {
        const d = command[i];
        if (d === '(') depth++;
        else if (d === ')' && --depth === 0) break;
        i++;
      }
      text += command.slice(begin, Math.min(i + 1, n));
      i++;
      continue;
    }
    if (c === '=' && assignAt < 0) {
      assignAt = text.length;
      if (!quoted && IDENTIFIER.test(text)) assignName = text;
    }
    text += c;
    i++;
  }
  const assignment =
    assignName === undefined ? undefined : { name: assignName, value: text.slice(assignAt + 1) };
  return [{ text, assignment }, Math.max(i, start + 1)];
}
