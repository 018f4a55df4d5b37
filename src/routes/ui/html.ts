import { escape as escapeHtml } from 'html-escaper';

/** Markup that is already escaped (built by `html`); everything else interpolated is escaped. */
export class SafeHtml {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

/**
 * Tagged template for the console's pages: every interpolated value is HTML-escaped unless it is itself `html`,
 * so a label value, annotation, repository or reason from anywhere shows as text (issue 12: `<script>` in a
 * label renders as text). Attribute values must be quoted in the template; escaping covers `"` and `'`.
 */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  for (const [i, v] of values.entries()) out += render(v) + (strings[i + 1] ?? '');
  return new SafeHtml(out);
}
