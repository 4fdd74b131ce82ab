/**
 * The part of Terraform's expression language the synthesized stack uses:
 * string templates (`${…}`, with `$${` and `%%{` as literal escapes),
 * references (`docker_volume.X.name`), string and number literals, and the
 * functions in FUNCTIONS. Anything else is refused with the text it met, so a
 * stack can never be applied with an expression silently left unevaluated.
 */
import { readFileSync } from 'node:fs';

/** A parsed expression. */
export type Expr =
  | { kind: 'literal'; value: unknown }
  | { kind: 'template'; parts: Expr[] }
  | { kind: 'reference'; path: string[] }
  | { kind: 'call'; name: string; args: Expr[] };

export class ExpressionError extends Error {}

/** Terraform's built-in functions that the applier implements (each cross-checked against `terraform console`). */
export const FUNCTIONS: Readonly<Record<string, (...args: unknown[]) => unknown>> = {
  file: (path) => {
    if (typeof path !== 'string') throw new ExpressionError('file() takes a path string');
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (err) {
      throw new ExpressionError(`file("${path}"): ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no file exists at that path' : (err as Error).message}`);
    }
    // As Terraform: content that is not UTF-8 is an error (not replaced with U+FFFD), a byte order mark is kept.
    try {
      return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
    } catch {
      throw new ExpressionError(`file("${path}"): the contents are not valid UTF-8`);
    }
  },
  // Sensitivity only hides values in Terraform's own output; the value is unchanged.
  sensitive: (value) => value,
  // As Terraform (Go's encoding/json): object keys sorted; <, >, &, U+2028 and U+2029 escaped.
  jsonencode: (value) => (JSON.stringify(value, sortKeys) ?? 'null').replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
  replace: (text, search, replacement) => {
    const [t, f, r] = [text, search, replacement].map((v) => {
      if (!['string', 'number', 'boolean'].includes(typeof v)) throw new ExpressionError('replace() takes strings');
      return String(v);
    });
    if (f.length > 1 && f.startsWith('/') && f.endsWith('/')) throw new ExpressionError(`replace() with a regular expression (${f}) is not supported by the local applier`);
    // As Go's strings.Replace: an empty search string matches at every character boundary.
    if (f === '') return [...new Intl.Segmenter().segment(t)].map((g) => g.segment).reduce((out, c) => `${out}${c}${r}`, r);
    return t.split(f).join(r);
  },
  // Offsets and lengths count characters as Terraform does: grapheme clusters.
  substr: (text, offset, length) => {
    if (typeof text !== 'string' || typeof offset !== 'number' || typeof length !== 'number') throw new ExpressionError('substr() takes a string, an offset and a length');
    const chars = [...new Intl.Segmenter().segment(text)].map((g) => g.segment);
    const start = offset < 0 ? chars.length + offset : offset;
    if (start < 0 || start > chars.length) throw new ExpressionError(`substr(): offset ${offset} is out of range for a string of ${chars.length} characters`);
    if (length < -1) throw new ExpressionError(`substr(): length ${length} is not -1 or more`);
    return chars.slice(start, length === -1 ? undefined : start + length).join('');
  },
  base64encode: (value) => {
    if (!['string', 'number', 'boolean'].includes(typeof value)) throw new ExpressionError(`base64encode() takes a string, not ${value === null ? 'null' : typeof value}`);
    return Buffer.from(String(value), 'utf8').toString('base64');
  },
};

function sortKeys(_key: string, value: unknown): unknown {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Parses a string from the Terraform JSON as the template it is. */
export function parseTemplate(text: string): Expr {
  const parts: Expr[] = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    if (text.startsWith('$${', i)) {
      literal += '${';
      i += 3;
    } else if (text.startsWith('%%{', i)) {
      literal += '%{';
      i += 3;
    } else if (text.startsWith('${', i)) {
      if (literal) parts.push({ kind: 'literal', value: literal });
      literal = '';
      const parser = new Parser(text, i + 2);
      parts.push(parser.expression());
      parser.skipSpace();
      if (text[parser.pos] !== '}') throw new ExpressionError(`expected "}" at offset ${parser.pos} of ${JSON.stringify(text.slice(i, i + 60))}`);
      i = parser.pos + 1;
    } else if (text.startsWith('%{', i)) {
      throw new ExpressionError(`template directives (%{…}) are not supported: ${JSON.stringify(text.slice(i, i + 40))}`);
    } else {
      literal += text[i++];
    }
  }
  if (literal || parts.length === 0) parts.push({ kind: 'literal', value: literal });
  return parts.length === 1 ? parts[0] : { kind: 'template', parts };
}

class Parser {
  constructor(
    private readonly text: string,
    public pos: number,
  ) {}

  skipSpace(): void {
    while (/\s/.test(this.text[this.pos] ?? '')) this.pos++;
  }

  expression(): Expr {
    this.skipSpace();
    const c = this.text[this.pos];
    if (c === '"') return this.stringLiteral();
    if (/[-0-9]/.test(c ?? '')) {
      const m = /^-?[0-9]+(\.[0-9]+)?/.exec(this.text.slice(this.pos));
      if (!m) throw this.error('a number');
      this.pos += m[0].length;
      return { kind: 'literal', value: Number(m[0]) };
    }
    const ident = this.identifier();
    if (ident === 'true' || ident === 'false') return { kind: 'literal', value: ident === 'true' };
    if (ident === 'null') return { kind: 'literal', value: null };
    this.skipSpace();
    if (this.text[this.pos] === '(') {
      this.pos++;
      const args: Expr[] = [];
      this.skipSpace();
      while (this.text[this.pos] !== ')') {
        args.push(this.expression());
        this.skipSpace();
        if (this.text[this.pos] === ',') this.pos++;
        else if (this.text[this.pos] !== ')') throw this.error('"," or ")"');
        this.skipSpace();
      }
      this.pos++;
      if (!(ident in FUNCTIONS)) throw new ExpressionError(`the function ${ident}() is not supported by the local applier`);
      return { kind: 'call', name: ident, args };
    }
    const path = [ident];
    while (this.text[this.pos] === '.' || this.text[this.pos] === '[') {
      if (this.text[this.pos] === '.') {
        this.pos++;
        path.push(this.identifier());
      } else {
        this.pos++;
        const m = /^[0-9]+/.exec(this.text.slice(this.pos));
        if (!m || this.text[this.pos + m[0].length] !== ']') throw this.error('a numeric index');
        path.push(m[0]);
        this.pos += m[0].length + 1;
      }
    }
    return { kind: 'reference', path };
  }

  private identifier(): string {
    const m = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(this.text.slice(this.pos));
    if (!m) throw this.error('an expression');
    this.pos += m[0].length;
    return m[0];
  }

  private stringLiteral(): Expr {
    this.pos++; // opening quote
    let raw = '';
    while (this.pos < this.text.length && this.text[this.pos] !== '"') {
      const c = this.text[this.pos++];
      if (c !== '\\') {
        raw += c;
        continue;
      }
      const e = this.text[this.pos++];
      const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\' };
      if (!(e in escapes)) throw new ExpressionError(`the escape \\${e} is not supported`);
      // Keep an escaped quote or backslash from being read as template syntax below.
      raw += escapes[e];
    }
    if (this.text[this.pos] !== '"') throw this.error('a closing quote');
    this.pos++;
    return parseTemplate(raw);
  }

  private error(expected: string): ExpressionError {
    return new ExpressionError(`expected ${expected} at offset ${this.pos} of ${JSON.stringify(this.text.slice(Math.max(0, this.pos - 20), this.pos + 40))}`);
  }
}

/** Every reference an expression makes, as `type.name` resource addresses. */
export function referencedAddresses(expr: Expr): string[] {
  switch (expr.kind) {
    case 'literal':
      return [];
    case 'reference':
      return expr.path.length >= 2 ? [`${expr.path[0]}.${expr.path[1]}`] : [];
    case 'template':
      return expr.parts.flatMap(referencedAddresses);
    case 'call':
      return expr.args.flatMap(referencedAddresses);
  }
}

/** Evaluates an expression; `lookup` answers references with the applied resources' attributes. */
export function evaluate(expr: Expr, lookup: (path: string[]) => unknown): unknown {
  const value = evaluateRaw(expr, lookup);
  // Terraform's strings are always in Unicode normal form C (cty normalizes every string it makes).
  return typeof value === 'string' ? value.normalize('NFC') : value;
}

function evaluateRaw(expr: Expr, lookup: (path: string[]) => unknown): unknown {
  switch (expr.kind) {
    case 'literal':
      return expr.value;
    case 'reference':
      return lookup(expr.path);
    case 'template':
      return expr.parts.map((p) => stringify(evaluate(p, lookup))).join('');
    case 'call':
      return FUNCTIONS[expr.name](...expr.args.map((a) => evaluate(a, lookup)));
  }
}

function stringify(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new ExpressionError(`cannot interpolate ${value === null ? 'null' : typeof value} into a string`);
}

/** Applies `evaluate` to every string inside a JSON value, leaving the rest. */
export function resolveValue(value: unknown, lookup: (path: string[]) => unknown): unknown {
  if (typeof value === 'string') return evaluate(parseTemplate(value), lookup);
  if (Array.isArray(value)) return value.map((v) => resolveValue(v, lookup));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveValue(v, lookup)]));
  }
  return value;
}

/** Every resource address referenced anywhere inside a JSON value. */
export function referencesIn(value: unknown): string[] {
  if (typeof value === 'string') return referencedAddresses(parseTemplate(value));
  if (Array.isArray(value)) return value.flatMap(referencesIn);
  if (value && typeof value === 'object') return Object.values(value).flatMap(referencesIn);
  return [];
}
