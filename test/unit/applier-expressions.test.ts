/**
 * The applier's expression language: parsing, evaluation and references, then
 * every function in FUNCTIONS and the template escapes cross-checked against
 * Terraform itself (`terraform console`, which evaluates built-in functions
 * without any provider).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { evaluate, ExpressionError, FUNCTIONS, parseTemplate, referencedAddresses, referencesIn, resolveValue } from '../../applier/expressions';

/** References are answered from this object, by path (`docker_volume.data.name` → FIXTURE.docker_volume.data.name). */
const FIXTURE: Record<string, unknown> = {
  docker_volume: { data: { name: 'mail-data', mountpoint: '/var/lib/docker/volumes/mail-data/_data' } },
  docker_container: { app: { id: 'abc123', network_data: [{ network_name: 'net', ip_address: '172.18.0.2', gateway: '172.18.0.1' }] } },
  docker_image: { app: { image_id: 'sha256:0123', size: 42, keep_locally: true } },
};

function walk(root: unknown, path: string[]): unknown {
  let value = root;
  for (const key of path) {
    if (value === null || typeof value !== 'object' || !(key in value)) throw new ExpressionError(`${path.join('.')}: no ${key}`);
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

const lookup = (path: string[]) => walk(FIXTURE, path);
const evalText = (text: string) => evaluate(parseTemplate(text), lookup);
const noLookup = () => {
  throw new Error('no reference expected');
};

describe('parseTemplate and evaluate', () => {
  it('returns plain strings unchanged', () => {
    expect(parseTemplate('hello world')).toEqual({ kind: 'literal', value: 'hello world' });
    expect(parseTemplate('')).toEqual({ kind: 'literal', value: '' });
    expect(evalText('a $ b % c $} %} $$ %% {}')).toBe('a $ b % c $} %} $$ %% {}');
  });

  it('turns the escapes $${ and %%{ into literal ${ and %{', () => {
    expect(evalText('$${HOME} and %%{ if x }')).toBe('${HOME} and %{ if x }');
    expect(evalText('price: $$${x}')).toBe('price: $${x}');
    // An escape is literal text, not an interpolation: nothing is referenced.
    expect(referencesIn('$${docker_volume.data.name}')).toEqual([]);
  });

  it('returns the raw value of a template that is one interpolation', () => {
    expect(evalText('${docker_volume.data.name}')).toBe('mail-data');
    expect(evalText('${docker_image.app.size}')).toBe(42);
    expect(evalText('${docker_image.app.keep_locally}')).toBe(true);
    expect(evalText('${docker_container.app.network_data}')).toEqual([{ network_name: 'net', ip_address: '172.18.0.2', gateway: '172.18.0.1' }]);
    expect(evalText('${ 7 }')).toBe(7);
    expect(evalText('${null}')).toBeNull();
  });

  it('concatenates mixed templates, interpolating numbers and booleans as text', () => {
    expect(evalText('volume ${docker_volume.data.name} of ${docker_image.app.size} (${docker_image.app.keep_locally})')).toBe('volume mail-data of 42 (true)');
    expect(parseTemplate('a${docker_volume.data.name}b')).toEqual({
      kind: 'template',
      parts: [
        { kind: 'literal', value: 'a' },
        { kind: 'reference', path: ['docker_volume', 'data', 'name'] },
        { kind: 'literal', value: 'b' },
      ],
    });
  });

  it('refuses to interpolate null, lists or objects into a string', () => {
    expect(() => evalText('x${null}')).toThrow(/cannot interpolate null/);
    expect(() => evalText('x${docker_container.app.network_data}')).toThrow(/cannot interpolate object/);
  });

  it('reads numeric index paths', () => {
    expect(parseTemplate('${docker_container.app.network_data[0].ip_address}')).toEqual({
      kind: 'reference',
      path: ['docker_container', 'app', 'network_data', '0', 'ip_address'],
    });
    expect(evalText('${docker_container.app.network_data[0].ip_address}')).toBe('172.18.0.2');
    expect(parseTemplate('${a.b.c[0].d}')).toEqual({ kind: 'reference', path: ['a', 'b', 'c', '0', 'd'] });
    expect(parseTemplate('${a.b[12][3]}')).toEqual({ kind: 'reference', path: ['a', 'b', '12', '3'] });
  });

  it('evaluates nested function calls', () => {
    const dir = mkdtempSync(join(tmpdir(), 'applier-expr-'));
    try {
      const file = join(dir, 'key.pem');
      writeFileSync(file, '-----BEGIN KEY-----\nabc\n-----END KEY-----\n');
      expect(parseTemplate(`\${sensitive(file("${file}"))}`)).toEqual({
        kind: 'call',
        name: 'sensitive',
        args: [{ kind: 'call', name: 'file', args: [{ kind: 'literal', value: file }] }],
      });
      expect(evaluate(parseTemplate(`\${sensitive(file("${file}"))}`), noLookup)).toBe('-----BEGIN KEY-----\nabc\n-----END KEY-----\n');
      expect(evaluate(parseTemplate(`\${base64encode(sensitive(file( "${file}" )))}`), noLookup)).toBe(
        Buffer.from('-----BEGIN KEY-----\nabc\n-----END KEY-----\n').toString('base64'),
      );
      expect(evalText('${jsonencode(docker_volume.data.name)}')).toBe('"mail-data"');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads string literals with their escapes', () => {
    expect(evalText('${"tab\\there \\"quoted\\" back\\\\slash\\nnew\\rline"}')).toBe('tab\there "quoted" back\\slash\nnew\rline');
    expect(evalText('${"a $${b} %%{c}"}')).toBe('a ${b} %{c}');
    expect(evalText('${"n=${docker_image.app.size}"}')).toBe('n=42');
    expect(evalText('${"\\\\${docker_volume.data.name}"}')).toBe('\\mail-data');
    expect(() => evalText('${"\\q"}')).toThrow(/escape \\q is not supported/);
  });

  it('collects the resource addresses a value references, for ordering', () => {
    expect(referencedAddresses(parseTemplate('${docker_volume.data.name}'))).toEqual(['docker_volume.data']);
    expect(
      referencesIn({
        name: 'x-${docker_network.net.name}',
        image: '${docker_image.app.image_id}',
        upload: [{ content: '${sensitive(file("/x"))}' }, { content: '${jsonencode(tls_self_signed_cert.cert.cert_pem)}' }],
        networks_advanced: [{ name: '${docker_network.net.id}' }],
        ports: [{ internal: 25, external: 2525 }],
        must_run: true,
        nothing: null,
      }).sort(),
    ).toEqual(['docker_image.app', 'docker_network.net', 'docker_network.net', 'tls_self_signed_cert.cert']);
    expect(referencesIn('${"${docker_volume.data.name}"}')).toEqual(['docker_volume.data']);
    expect(referencesIn('no references, $${docker_volume.data.name}')).toEqual([]);
  });

  it('resolves every string of a JSON value and leaves the rest as they are', () => {
    expect(
      resolveValue(
        { name: 'c-${docker_volume.data.name}', n: 3, flag: false, none: null, list: ['${docker_image.app.size}', { deep: '$${literal}' }] },
        lookup,
      ),
    ).toEqual({ name: 'c-mail-data', n: 3, flag: false, none: null, list: [42, { deep: '${literal}' }] });
  });

  it('refuses template directives with a clear error', () => {
    expect(() => parseTemplate('%{ if true }yes%{ endif }')).toThrow(ExpressionError);
    expect(() => parseTemplate('a %{for x in y}${x}%{endfor}')).toThrow(/template directives \(%\{…\}\) are not supported/);
    expect(() => parseTemplate('${"%{ if true }x%{ endif }"}')).toThrow(/template directives/);
  });

  it('refuses an unknown function, naming it', () => {
    expect(() => parseTemplate('${upper("x")}')).toThrow(/the function upper\(\) is not supported/);
    expect(() => parseTemplate('${sensitive(filebase64("/x"))}')).toThrow(/filebase64\(\)/);
    expect(() => parseTemplate('${nonsensitive("x")}')).toThrow(ExpressionError);
  });

  it.each([
    ['an unclosed interpolation', '${docker_volume.data.name'],
    ['an empty interpolation', '${}'],
    ['an operator', '${1 + 2}'],
    ['a conditional', '${true ? "a" : "b"}'],
    ['a splat', '${docker_container.app.network_data[*].ip_address}'],
    ['a string key index', '${docker_container.app["x"]}'],
    ['an unclosed call', '${file("/x"}'],
    ['a missing comma', '${jsonencode("a" "b")}'],
    ['an unclosed string', '${file("/x)}'],
    ['a whitespace strip marker', '${~ docker_volume.data.name ~}'],
    ['a quote inside an interpolation inside a string literal', '${"a ${"b"} c"}'],
    ['a number with an exponent', '${1e3}'],
    ['a list literal', '${["a"]}'],
  ])('refuses %s', (_what, text) => {
    expect(() => evaluate(parseTemplate(text), lookup)).toThrow(ExpressionError);
  });

  it('reports where a malformed expression went wrong', () => {
    expect(() => parseTemplate('${docker_volume.data.name')).toThrow(/expected "}"/);
    expect(() => parseTemplate('${1 + 2}')).toThrow(/expected "}" at offset 4/);
    expect(() => parseTemplate('${file("/x"}')).toThrow(/expected "," or "\)"/);
    expect(() => parseTemplate('${a[x]}')).toThrow(/expected a numeric index/);
  });

  it('refuses file() on a missing path, naming the path', () => {
    expect(() => evalText('${file("/nonexistent/applier/file.txt")}')).toThrow(/\/nonexistent\/applier\/file\.txt/);
    expect(() => FUNCTIONS.file(42)).toThrow(ExpressionError);
  });

  it('refuses base64encode() of null, a list or an object (Terraform takes a string)', () => {
    expect(() => evalText('${base64encode(null)}')).toThrow(/base64encode\(\) takes a string, not null/);
    expect(() => evalText('${base64encode(docker_container.app.network_data)}')).toThrow(/not object/);
  });
});

/**
 * Terraform's answers for many expressions at once. The expressions go into
 * `locals` of a main.tf.json (JSON syntax, as cdk.tf.json is), so each string
 * is read as a template exactly as Terraform reads the synthesized stack, and
 * one `terraform console` run evaluates them all as
 * `base64encode(jsonencode([nonsensitive(local.c0), ...]))`:
 * - nonsensitive(): a sensitive element would make the whole list print as
 *   "(sensitive value)"; nonsensitive() of a value that is not sensitive is the
 *   value itself (Terraform >= 1.7), so it is applied to every case.
 * - jsonencode keeps types (a whole-string interpolation of a number stays a number).
 * - base64encode makes the printed result a plain ASCII string literal, so the
 *   console's Go-style quoting (\x7f, \ufeff, ...) never needs to be undone.
 */

function terraformConsole(locals: Record<string, unknown>, expression: string): { status: number | null; stdout: string; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'applier-tf-'));
  try {
    writeFileSync(join(dir, 'main.tf.json'), JSON.stringify({ locals }, null, 1));
    const r = spawnSync('terraform', ['console', '-no-color'], {
      cwd: dir,
      input: `${expression}\n`,
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...process.env, CHECKPOINT_DISABLE: '1', TF_CLI_CONFIG_FILE: '/dev/null', TF_IN_AUTOMATION: '1' },
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function terraformValues(cases: readonly string[], fixtures: Record<string, unknown>): unknown[] {
  const locals = { ...fixtures, ...Object.fromEntries(cases.map((c, i) => [`c${i}`, c])) };
  const list = cases.map((_c, i) => `nonsensitive(local.c${i})`).join(', ');
  const r = terraformConsole(locals, `base64encode(jsonencode([${list}]))`);
  if (r.status !== 0) throw new Error(`terraform console failed (${r.status}):\n${r.stderr}\n${r.stdout}`);
  if (!r.stdout.trim().startsWith("\"")) throw new Error(`terraform console printed no value:\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(Buffer.from(JSON.parse(r.stdout.trim()) as string, 'base64').toString('utf8')) as unknown[];
}

// The cross-check is the proof the applier evaluates as Terraform does: without terraform it fails, never skips.
describe('cross-checked against terraform console', () => {
  it('has terraform to ask', () => {
    expect(spawnSync('terraform', ['version'], { encoding: 'utf8', env: { ...process.env, CHECKPOINT_DISABLE: '1' } }).status).toBe(0);
  });

  let dir: string;
  const files: Record<string, string> = {
    unicode: 'héllo wörld ✓ 𝄞 日本語 Ωμέγα\n',
    lines: 'first line\nsecond line\r\nthird\tline with tab\n\n  indented\n',
    template: 'not a template: ${var.x} %{ if true }y%{ endif } $${escaped} %%{also} \\${backslash}\n',
    empty: '',
    quotes: 'say "hi" \\ back\\slash \'single\' <b>&amp;</b>\u2028\u2029 \u0001\b\f\u001f\u007f end',
    bom: '\ufeffstarts with a byte order mark\n',
    // Decomposed é and Å: Terraform normalizes every string to NFC.
    decomposed: 'cafe\u0301 A\u030angstro\u0308m\n',
    pem: '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUJ1==\n-----END CERTIFICATE-----\n',
  };
  const path = (name: string) => join(dir, `${name}.txt`);
  // Values references are answered with, as `local.<name>` in both evaluators.
  const fixtures = {
    obj: { b: 1, a: 'x', nested: { z: [1, 'two', true, null], y: 'é' }, '<tag>': '&' },
    list: ['first', 2.5, false],
    num: 1.5,
    str: 'a "quoted" <string> & more',
  };
  const localLookup = (p: string[]) => {
    if (p[0] !== 'local') throw new ExpressionError(`unexpected reference ${p.join('.')}`);
    return walk(fixtures, p.slice(1));
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'applier-expr-files-'));
    for (const [name, content] of Object.entries(files)) writeFileSync(path(name), content);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('agrees on templates, escapes, literals, references and every function in FUNCTIONS', () => {
    const fileCases = Object.keys(files).flatMap((name) => [
      `\${file("${path(name)}")}`,
      `\${sensitive(file("${path(name)}"))}`,
      `\${jsonencode(file("${path(name)}"))}`,
      `\${base64encode(file("${path(name)}"))}`,
      `\${jsonencode(sensitive(file("${path(name)}")))}`,
      `before ${name} \${file("${path(name)}")} after`,
    ]);
    const cases = [
      // plain text and escapes
      'plain text',
      '',
      '$${x}',
      '%%{x}',
      '$$${x}',
      '$$$${x}',
      'a $ b % c $$ %% $} %} {}',
      '$${a} and %%{b} and $${docker_volume.x.name}',
      'cafe\u0301',
      // literals
      '${1}',
      '${0}',
      '${007}',
      '${1.50}',
      '${true}',
      '${false}',
      '${null}',
      '${ 42 }',
      'x${1}y${true}z${1.25}',
      '${"quoted \\"inner\\" back\\\\slash tab\\t nl\\n cr\\r"}',
      '${"$${not} %%{dir}"}',
      '${"a ${1} b"}',
      '${"cafe\u0301"}',
      '${"\\\\${2}"}',
      // references (to locals here, to resources in a stack)
      '${local.obj}',
      '${local.list}',
      '${local.obj.nested.z[1]}',
      '${local.obj.nested.z[2]}',
      '${local.list[0]}',
      'n=${local.num} s=${local.str}',
      // functions on literals and references
      '${sensitive("s")}',
      '${ sensitive( "s" ) }',
      '${sensitive(local.obj)}',
      '${jsonencode("")}',
      '${jsonencode("a\\"b\\\\c")}',
      '${jsonencode("<b>&amp;</b>")}',
      '${jsonencode("tab\\tnl\\ncr\\r")}',
      '${jsonencode("héllo ✓ 𝄞")}',
      '${jsonencode(1)}',
      '${jsonencode(1.5)}',
      '${jsonencode(0.1)}',
      '${jsonencode(true)}',
      '${jsonencode(null)}',
      '${jsonencode(local.obj)}',
      '${jsonencode(local.list)}',
      '${jsonencode(local.str)}',
      '${jsonencode(jsonencode(local.obj))}',
      '${base64encode("")}',
      '${base64encode("héllo ✓ 𝄞")}',
      '${base64encode("cafe\u0301")}',
      '${base64encode(local.str)}',
      '${base64encode(1)}',
      '${base64encode(true)}',
      '${base64encode(sensitive("s"))}',
      '${replace("a-b-c", "-", "+")}',
      '${replace("aaa", "a", "")}',
      '${replace("x", "", "y")}',
      '${replace("-----BEGIN PUBLIC KEY-----\\nMIIB\\nAQAB\\n-----END PUBLIC KEY-----\\n", "\\n", "")}',
      '${replace(local.str, "e", "E")}',
      '${substr("hello world", 0, 5)}',
      '${substr("hello world", 6, -1)}',
      '${substr("hello world", 6, 100)}',
      '${substr("hello world", -5, 3)}',
      '${substr("hello", 5, 1)}',
      '${substr("cafe\u0301s", 3, 1)}',
      '${substr(replace(replace("-----BEGIN-----\\nABCDEF\\nGH\\n-----END-----", "-----BEGIN-----", ""), "\\n", ""), 2, 4)}',
      ...fileCases,
    ];
    const expected = terraformValues(cases, fixtures);
    const ours = cases.map((c) => evaluate(parseTemplate(c), localLookup));
    // One assertion per case, so a difference names the expression.
    const differences = cases.map((c, i) => ({ case: c, terraform: expected[i], ours: ours[i] })).filter((d) => !isDeepStrictEqual(d.terraform, d.ours));
    expect(differences).toEqual([]);
    expect(expected).toHaveLength(cases.length);
  });

  it('agrees that file() on a missing path is an error', () => {
    const missing = join(dir, 'does-not-exist.txt');
    const r = terraformConsole({}, `file("${missing}")`);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/no file exists/);
    expect(() => evaluate(parseTemplate(`\${file("${missing}")}`), noLookup)).toThrow(ExpressionError);
    expect(() => evaluate(parseTemplate(`\${file("${missing}")}`), noLookup)).toThrow(missing);
  });

  it('agrees that file() on content that is not UTF-8 is an error', () => {
    const bad = join(dir, 'latin1.txt');
    writeFileSync(bad, Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a])); // "café" in Latin-1
    const r = terraformConsole({}, `file("${bad}")`);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/not valid UTF-8/);
    expect(() => evaluate(parseTemplate(`\${file("${bad}")}`), noLookup)).toThrow(/not valid UTF-8/);
  });

  it('agrees that null cannot be interpolated into a string', () => {
    const r = terraformConsole({}, '"a${null}"');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/null/);
    expect(() => evaluate(parseTemplate('a${null}'), noLookup)).toThrow(ExpressionError);
  });
});
