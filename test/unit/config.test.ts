/**
 * The config loader: mailstack.yaml in, a normalized MailstackConfig or a
 * ConfigError listing every problem with its key path out.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as yaml from 'js-yaml';
import { verify } from 'unixcrypt';
import { checkMailDirectory } from '../../config/consistency';
import { ConfigError, LoadOptions, loadConfigFile, parseConfig } from '../../config/load';
import { MailstackConfig } from '../../config/model';
import { hashPassword } from '../../config/password';

// ---------------------------------------------------------------------------
// Fixtures and helpers
// ---------------------------------------------------------------------------

const SHIPPED_YAML = resolve(__dirname, '../../mailstack.yaml');

/** `doveadm pw -s SHA512-CRYPT` of "alice-secret" (as in the shipped example). */
const HASH = '{SHA512-CRYPT}$6$G379Mwf3zgyfW.7A$bHUdNfm4gudV5ZWPaHUgZViATTlewopiy41tGiuPy68gRZNPvPefRN18xs761vuORcBMqvlMmrsywYZ3yKZYR0';

type Doc = Record<string, unknown>;

const mailbox = (address: string, extra: Doc = {}): Doc => ({ address, passwordHash: HASH, ...extra });
const ALICE = mailbox('alice@example.test');
const BOB = mailbox('bob@example.test');
const POSTMASTER = { 'postmaster@example.test': 'alice@example.test' };

/** The smallest valid config: no optional section, so every default applies. */
const base: Doc = {
  hostname: 'mail.example.test',
  domains: ['example.test'],
  mailboxes: [ALICE, BOB],
  aliases: POSTMASTER,
};

/** `base` with top-level keys replaced (undefined removes a key). */
function config(overrides: Doc = {}): Doc {
  const doc: Doc = { ...base, ...overrides };
  for (const key of Object.keys(doc)) if (doc[key] === undefined) delete doc[key];
  return doc;
}

/** `base` with extra aliases next to the postmaster one. */
const withAliases = (aliases: Doc): Doc => config({ aliases: { ...POSTMASTER, ...aliases } });

const toYaml = (doc: Doc | string): string => (typeof doc === 'string' ? doc : yaml.dump(doc, { lineWidth: -1 }));

/** Parses a config that must be valid. `env` is empty unless given, so process.env never leaks in. */
function parse(doc: Doc | string, options: LoadOptions = {}): MailstackConfig {
  return parseConfig(toYaml(doc), { env: {}, ...options });
}

/** The ConfigError's problems, or none when the config is accepted. */
function problemsOrNone(doc: Doc | string, options: LoadOptions = {}): readonly string[] {
  try {
    parse(doc, options);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

/** Parses a config that must be rejected and returns the ConfigError's problems. */
function problemsOf(doc: Doc | string, options: LoadOptions = {}): readonly string[] {
  const problems = problemsOrNone(doc, options);
  if (problems.length === 0) throw new Error(`expected a ConfigError, but this config was accepted:\n${toYaml(doc)}`);
  return problems;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Matches a problem about `path` (the line starts with it) whose message contains `fragment`. */
const problem = (path: string, fragment = '') =>
  expect.stringMatching(new RegExp(`^${escapeRegExp(path)}: (.*)?${escapeRegExp(fragment)}`, 's'));

/** Matches a value-rule problem: `path: "<value as JSON>" <reason...>`. */
const valueProblem = (path: string, value: string, reason = '') => problem(path, `${JSON.stringify(value)} ${reason}`);

function expectRejected(doc: Doc | string, path: string, fragment: string, options?: LoadOptions): void {
  expect(problemsOf(doc, options)).toContainEqual(problem(path, fragment));
}

/** A temporary directory, removed after the enclosing describe block. */
function useTmpDir(): () => string {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mailstack-config-test-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return () => dir;
}

// ---------------------------------------------------------------------------
// Valid configs
// ---------------------------------------------------------------------------

/** The limits a config gets when it names none, as documented in the schema and README. */
const DEFAULT_LIMITS = {
  messageSizeBytes: 26214400,
  mailboxSizeBytes: 0,
  clientConnectionsPerMinute: 60,
  clientConcurrentConnections: 20,
  clientMessagesPerMinute: 100,
  clientAuthAttemptsPerMinute: 10,
};

describe('the shipped mailstack.yaml', () => {
  it('loads and is normalized into the full config model', () => {
    // WHEN
    const loaded = loadConfigFile(SHIPPED_YAML, {});

    // THEN
    expect(loaded).toEqual({
      hostname: 'mail.example.test',
      domains: ['example.test'],
      mailboxes: [
        { address: 'alice@example.test', passwordHash: expect.stringMatching(/^\{SHA512-CRYPT\}\$6\$/), quotaBytes: 0 },
        { address: 'bob@example.test', passwordHash: expect.stringMatching(/^\{SHA512-CRYPT\}\$6\$/), quotaBytes: 1073741824 },
      ],
      aliases: {
        'postmaster@example.test': ['alice@example.test'],
        'abuse@example.test': ['alice@example.test'],
        'team@example.test': ['alice@example.test', 'bob@example.test'],
      },
      relay: { networks: [] },
      limits: DEFAULT_LIMITS,
      protocols: ['imap', 'imaps', 'pop3', 'pop3s'],
      ipv6: false,
      ports: { smtp: 25, submission: 587, submissions: 465, imap: 143, imaps: 993, pop3: 110, pop3s: 995 },
      extraSmtpPorts: [],
      recipientDelimiter: '+',
      tls: {},
      docker: { host: 'unix:///var/run/docker.sock', bindAddress: '0.0.0.0', namePrefix: 'mailstack', hostNetwork: false },
      dkim: { enabled: true, selector: 'mailstack', keyBits: 2048 },
      dns: {
        provider: 'none',
        zones: ['example.test'],
        ttl: 3600,
        addresses: ['192.0.2.25'],
        mx: true,
        spf: 'v=spf1 mx -all',
        dkim: true,
        dmarc: { policy: 'quarantine', adkim: 'r', aspf: 'r', percent: 100 },
        mtaSts: { mode: 'testing', maxAgeSeconds: 604800 },
        tlsRpt: {},
        srv: true,
      },
    });
  });

  it('carries password hashes that verify with the passwords its comment documents', () => {
    const [alice, bob] = loadConfigFile(SHIPPED_YAML, {}).mailboxes;
    const crypt = (hash: string) => hash.replace(/^\{SHA512-CRYPT\}/, '');
    expect(verify('alice-secret', crypt(alice.passwordHash))).toBe(true);
    expect(verify('bob-secret', crypt(bob.passwordHash))).toBe(true);
  });
});

describe('a minimal config', () => {
  it('is accepted and gets every default filled in', () => {
    // WHEN
    const loaded = parse(base);

    // THEN
    expect(loaded.docker).toEqual({ host: 'unix:///var/run/docker.sock', bindAddress: '0.0.0.0', namePrefix: 'mailstack', hostNetwork: false });
    expect(loaded.limits).toEqual(DEFAULT_LIMITS);
    expect(loaded.protocols).toEqual(['imap', 'imaps', 'pop3', 'pop3s']);
    expect(loaded.ipv6).toBe(false);
    expect(loaded.relay).toEqual({ networks: [] });
    expect(loaded.ports).toEqual({});
    expect(loaded.tls).toEqual({});
    expect(loaded.mailboxes.map((m) => m.quotaBytes)).toEqual([0, 0]);
  });

  it('turns a single alias target into a one-element list', () => {
    expect(parse(base).aliases).toEqual({ 'postmaster@example.test': ['alice@example.test'] });
  });

  it('lowercases hostname, domains, addresses and aliases instead of rejecting uppercase', () => {
    // GIVEN
    const doc = config({
      hostname: 'MAIL.Example.TEST',
      domains: ['EXAMPLE.test'],
      mailboxes: [mailbox('Alice@Example.Test'), BOB],
      aliases: { 'PostMaster@EXAMPLE.test': 'ALICE@example.test', 'Team@Example.Test': ['Alice@Example.Test', 'BOB@EXAMPLE.TEST'] },
    });

    // WHEN
    const loaded = parse(doc);

    // THEN
    expect(loaded.hostname).toBe('mail.example.test');
    expect(loaded.domains).toEqual(['example.test']);
    expect(loaded.mailboxes.map((m) => m.address)).toEqual(['alice@example.test', 'bob@example.test']);
    expect(loaded.aliases).toEqual({
      'postmaster@example.test': ['alice@example.test'],
      'team@example.test': ['alice@example.test', 'bob@example.test'],
    });
  });

  it('ignores a $schema key (the editor pointer)', () => {
    expect(parse(config({ $schema: './mailstack.schema.json' })).hostname).toBe('mail.example.test');
  });
});

// ---------------------------------------------------------------------------
// Document shape: YAML syntax, unknown keys, types, required keys
// ---------------------------------------------------------------------------

describe('YAML that cannot be read', () => {
  it('rejects a syntax error, naming line and column', () => {
    const problems = problemsOf('hostname: mail.example.test\ndomains: [example.test\nmailboxes: []\n');
    expect(problems).toEqual([expect.stringMatching(/^not valid YAML: .*\(\d+:\d+\)/s)]);
  });

  it('rejects a duplicate key, naming it', () => {
    const problems = problemsOf('hostname: mail.example.test\nhostname: other.example.test\ndomains: [example.test]\nmailboxes: []\n');
    expect(problems).toEqual([expect.stringMatching(/^not valid YAML: duplicated mapping key .*\(2:1\).*hostname: other/s)]);
  });

  it.each([
    ['a list', '- hostname: mail.example.test\n'],
    ['a string', 'mail.example.test\n'],
    ['an empty file', ''],
  ])('rejects a top level that is %s instead of a mapping', (_, text) => {
    expect(problemsOf(text)).toEqual(['(top level): must be object']);
  });
});

describe('unknown keys', () => {
  it.each([
    ['at the top level', config({ hostnme: 'mail.example.test' }), 'hostnme'],
    ['in a mailbox', config({ mailboxes: [{ address: 'alice@example.test', pasword: 'x' }] }), 'mailboxes[0].pasword'],
    ['in docker', config({ docker: { hots: 'unix:///var/run/docker.sock' } }), 'docker.hots'],
    ['in relay', config({ relay: { network: ['10.0.0.0/8'] } }), 'relay.network'],
    ['in ports', config({ ports: { smtps: 465 } }), 'ports.smtps'],
    ['in tls', config({ tls: { cert: 'cert.pem' } }), 'tls.cert'],
    ['in limits', config({ limits: { messageSize: 1024 } }), 'limits.messageSize'],
  ])('are rejected %s with their full key path', (_, doc, path) => {
    expect(problemsOf(doc)).toContainEqual(`${path}: is not a known key`);
  });
});

describe('values of the wrong type', () => {
  it.each([
    ['domains as a string', config({ domains: 'example.test' }), 'domains', 'must be array'],
    ['an empty domains list', config({ domains: [] }), 'domains', 'must NOT have fewer than 1 items'],
    ['hostname as a number', config({ hostname: 42 }), 'hostname', 'must be string'],
    ['quotaBytes as a string', config({ mailboxes: [mailbox('alice@example.test', { quotaBytes: '1GB' })] }), 'mailboxes[0].quotaBytes', 'must be integer'],
    ['quotaBytes negative', config({ mailboxes: [mailbox('alice@example.test', { quotaBytes: -1 })] }), 'mailboxes[0].quotaBytes', 'must be >= 0'],
    ['quotaBytes not an integer', config({ mailboxes: [mailbox('alice@example.test', { quotaBytes: 1.5 })] }), 'mailboxes[0].quotaBytes', 'must be integer'],
    ['a port as a string', config({ ports: { smtp: '25' } }), 'ports.smtp', 'must be integer'],
    ['an alias target as a number', withAliases({ 'info@example.test': 42 }), 'aliases["info@example.test"]', 'must be an address or a list of addresses'],
    ['an alias list item as a number', withAliases({ 'info@example.test': [42] }), 'aliases["info@example.test"][0]', 'must be an address or a list of addresses'],
    ['an empty alias list', withAliases({ 'info@example.test': [] }), 'aliases["info@example.test"]', 'must NOT have fewer than 1 items'],
    ['messageSizeBytes as a string', config({ limits: { messageSizeBytes: '10MB' } }), 'limits.messageSizeBytes', 'must be integer'],
  ])('rejects %s', (_, doc, path, message) => {
    expect(problemsOf(doc)).toContainEqual(`${path}: ${message}`);
  });
});

describe('missing required keys', () => {
  it.each([
    ['hostname', config({ hostname: undefined })],
    ['domains', config({ domains: undefined })],
    ['mailboxes', config({ mailboxes: undefined })],
    ['mailboxes[1].address', config({ mailboxes: [ALICE, { passwordHash: HASH }] })],
  ])('rejects a config without %s', (path, doc) => {
    expect(problemsOf(doc)).toContainEqual(`${path}: is required`);
  });
});

// ---------------------------------------------------------------------------
// Value rules
// ---------------------------------------------------------------------------

describe.each([
  ['hostname', (name: string) => config({ hostname: name })],
  ['domains[1]', (name: string) => config({ domains: ['example.test', name] })],
])('%s as a domain name', (path, docWith) => {
  it.each([
    ['no dot', 'localhost', 'is not a fully qualified domain name (it needs at least one dot)'],
    ['an underscore', 'mail_1.example.test', 'is not a valid domain name'],
    ['a label ending in a hyphen', 'mail-.example.test', 'is not a valid domain name'],
    ['a label starting with a hyphen', '-mail.example.test', 'is not a valid domain name'],
    ['an empty label', 'mail..example.test', 'is not a valid domain name'],
    ['a trailing dot', 'mail.example.test.', 'is not a valid domain name'],
    ['a label of 64 characters', `${'a'.repeat(64)}.example.test`, 'is not a valid domain name'],
    ['a numeric top-level label', 'mail.example.123', 'is not a domain name (its last label is numeric)'],
    ['an IPv4 address', '192.0.2.1', 'is not a domain name (its last label is numeric)'],
    ['more than 253 characters', `${Array(64).fill('abc').join('.')}.test`, 'is longer than 253 characters'],
  ])('is rejected with %s', (_, name, reason) => {
    expect(problemsOf(docWith(name))).toContainEqual(valueProblem(path, name, reason));
  });

  it('is accepted with a label of exactly 63 characters', () => {
    const name = `${'a'.repeat(63)}.example.test`;
    // (a second domain without postmaster is rejected for that; only this key path matters here)
    expect(problemsOrNone(docWith(name)).filter((p) => p.startsWith(`${path}:`))).toEqual([]);
  });
});

describe('mailbox addresses', () => {
  const docWith = (address: string) => config({ mailboxes: [ALICE, BOB, mailbox(address)] });

  it.each([
    ['bob@', 'is not an email address'],
    ['@example.test', 'is not an email address'],
    ['bob', 'is not an email address'],
    ['bob@example', 'is not an email address (its domain is not valid)'],
    ['bob@exa_mple.test', 'is not an email address (its domain is not valid)'],
    [`${'a'.repeat(65)}@example.test`, 'is not an email address (the local part is longer than 64 characters)'],
    ['"bob"@example.test', 'is not an email address mailstack accepts'],
    ['"bob smith"@example.test', 'is not an email address mailstack accepts'],
    ['a%b@example.test', 'is not an email address mailstack accepts'],
    ['a!b@example.test', 'is not an email address mailstack accepts'],
    ['a/b@example.test', 'is not an email address mailstack accepts'],
    ['a:b@example.test', 'is not an email address mailstack accepts'],
    ['a+b@example.test', 'is not an email address mailstack accepts'],
    ['a@b@example.test', 'is not an email address mailstack accepts'],
    ['bob smith@example.test', 'is not an email address mailstack accepts'],
    ['bob\n@example.test', 'is not an email address mailstack accepts'],
    ['bob@example.test\n', 'is not an email address (its domain is not valid)'],
    ['.bob@example.test', 'is not an email address mailstack accepts'],
    ['bob.@example.test', 'is not an email address mailstack accepts'],
    ['b..ob@example.test', 'is not an email address mailstack accepts'],
  ])('rejects %j', (address, reason) => {
    expect(problemsOf(docWith(address))).toContainEqual(valueProblem('mailboxes[2].address', address, reason));
  });

  it('reports "bob@" exactly as "mailboxes[2].address: "bob@" is not an email address"', () => {
    expect(problemsOf(docWith('bob@'))).toContain('mailboxes[2].address: "bob@" is not an email address');
  });

  it('accepts dots, underscores, hyphens and digits in the local part', () => {
    const loaded = parse(docWith('first.last_2-x@example.test'));
    expect(loaded.mailboxes[2].address).toBe('first.last_2-x@example.test');
  });
});

describe('injection attempts: every string that reaches a config file refuses syntax characters', () => {
  const CHARS: Record<string, string> = {
    newline: '\n',
    'carriage return': '\r',
    '#': '#',
    '{': '{',
    '}': '}',
    ',': ',',
    space: ' ',
    tab: '\t',
    ':': ':',
    '"': '"',
    '${': '${',
    '%{': '%{',
  };

  interface Field {
    /** Builds the injected value from one syntax character. */
    readonly value: (c: string) => string;
    readonly doc: (value: string) => Doc;
    readonly path: (value: string) => string;
    /** Characters that are legitimately part of this field. */
    readonly allowed?: readonly string[];
  }

  const FIELDS: Record<string, Field> = {
    hostname: { value: (c) => `mail${c}x.example.test`, doc: (v) => config({ hostname: v }), path: () => 'hostname' },
    'a domain': { value: (c) => `exa${c}mple.test`, doc: (v) => config({ domains: ['example.test', v] }), path: () => 'domains[1]' },
    'a mailbox address': {
      value: (c) => `car${c}ol@example.test`,
      doc: (v) => config({ mailboxes: [ALICE, BOB, mailbox(v)] }),
      path: () => 'mailboxes[2].address',
    },
    'an alias key': {
      value: (c) => `in${c}fo@example.test`,
      doc: (v) => withAliases({ [v]: 'alice@example.test' }),
      path: (v) => `aliases[${JSON.stringify(v)}]`,
    },
    'an alias target': {
      value: (c) => `ali${c}ce@example.test`,
      doc: (v) => withAliases({ 'info@example.test': v }),
      path: () => 'aliases["info@example.test"]',
    },
    'an alias list target': {
      value: (c) => `ali${c}ce@example.test`,
      doc: (v) => withAliases({ 'team@example.test': ['bob@example.test', v] }),
      path: () => 'aliases["team@example.test"][1]',
    },
    // ',' separates argon2 parameters ($argon2id$v=19$m=65536,t=3,p=1$...), harmless in the passwd-file.
    passwordHash: {
      value: (c) => `${HASH}${c}x`,
      doc: (v) => config({ mailboxes: [mailbox('alice@example.test', { passwordHash: v }), BOB] }),
      path: () => 'mailboxes[0].passwordHash',
      allowed: [','],
    },
    'a relay network': { value: (c) => `10.1.15.0/24${c}`, doc: (v) => config({ relay: { networks: [v] }, docker: { hostNetwork: true } }), path: () => 'relay.networks[0]' },
    'docker.namePrefix': { value: (c) => `mail${c}stack`, doc: (v) => config({ docker: { namePrefix: v } }), path: () => 'docker.namePrefix' },
    // docker.host only reaches the provider block of the Terraform JSON: ':' is part of the URL, and
    // '#' or ',' carry no syntax there; quotes, whitespace and interpolations ('${', '%{') do.
    'docker.host': {
      value: (c) => `unix:///var/run/do${c}cker.sock`,
      doc: (v) => config({ docker: { host: v } }),
      path: () => 'docker.host',
      allowed: [':', '#', ','],
    },
    'docker.bindAddress': { value: (c) => `127.0.0.1${c}1`, doc: (v) => config({ docker: { bindAddress: v } }), path: () => 'docker.bindAddress' },
    // tls paths end up inside Terraform's file("..."): only what could leave the string or interpolate matters.
    'tls.certFile': {
      value: (c) => `ce${c}rt.pem`,
      doc: (v) => config({ tls: { certFile: v, keyFile: 'key.pem' } }),
      path: () => 'tls.certFile',
      allowed: ['#', '{', '}', ',', ' ', ':'],
    },
  };

  const cases = Object.entries(FIELDS).flatMap(([field, f]) =>
    Object.entries(CHARS)
      .filter(([, c]) => !(f.allowed ?? []).includes(c))
      .map(([name, c]) => ({ field, name, value: f.value(c), doc: f.doc(f.value(c)), path: f.path(f.value(c)) })),
  );

  it.each(cases)('$field containing $name is rejected at its key path', ({ value, doc, path }) => {
    expect(problemsOf(doc)).toContainEqual(valueProblem(path, value));
  });
});

describe('passwords', () => {
  const aliceWith = (extra: Doc) => config({ mailboxes: [{ address: 'alice@example.test', ...extra }, BOB] });

  it('rejects a mailbox with neither passwordHash nor passwordEnv', () => {
    expect(problemsOf(aliceWith({}))).toContain('mailboxes[0]: give exactly one of passwordHash or passwordEnv');
  });

  it('rejects a mailbox with both passwordHash and passwordEnv', () => {
    const problems = problemsOf(aliceWith({ passwordHash: HASH, passwordEnv: 'ALICE_PASSWORD' }), { env: { ALICE_PASSWORD: 'x' } });
    expect(problems).toContain('mailboxes[0]: give exactly one of passwordHash or passwordEnv');
  });

  it.each(['{PLAIN}secret', '{CLEARTEXT}x', '{PLAIN-MD5}5ebe2294ecd0e0f08eab7690d2a6ee69', '{CRYPT}$1$abc$def'])(
    'rejects the weak or cleartext scheme in %j',
    (hash) => {
      const scheme = /^\{([^}]+)\}/.exec(hash)![1];
      expect(problemsOf(aliceWith({ passwordHash: hash }))).toContainEqual(
        valueProblem('mailboxes[0].passwordHash', hash, `uses scheme {${scheme}}, which is not accepted`),
      );
    },
  );

  it.each([
    ['a crypt hash without a scheme', HASH.replace('{SHA512-CRYPT}', '')],
    ['a clear-text password', 'secret'],
    ['a lowercase scheme', HASH.replace('SHA512-CRYPT', 'sha512-crypt')],
  ])('rejects %s as not a dovecot password hash', (_, hash) => {
    expect(problemsOf(aliceWith({ passwordHash: hash }))).toContainEqual(
      valueProblem('mailboxes[0].passwordHash', hash, 'is not a dovecot password hash'),
    );
  });

  it.each([
    ['an empty body', '{SHA512-CRYPT}'],
    ['a body that is not a crypt string', '{SHA512-CRYPT}secret'],
  ])('rejects an accepted scheme with %s', (_, hash) => {
    expect(problemsOf(aliceWith({ passwordHash: hash }))).toContainEqual(
      valueProblem('mailboxes[0].passwordHash', hash, 'is not a valid {SHA512-CRYPT} hash'),
    );
  });

  it.each([
    '{SHA256-CRYPT}$5$saltsalt$8EVY5oV8rCcXOyS2zfxEk8xcEpvrlP7hFt/0BzIaTT2',
    '{BLF-CRYPT}$2y$05$abcdefghijklmnopqrstuu5bYpmyEG9Zy7AhUxz0eVxK8jKj6Iy/2',
    '{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo',
  ])('accepts the slow salted hash %j unchanged', (hash) => {
    expect(parse(aliceWith({ passwordHash: hash })).mailboxes[0].passwordHash).toBe(hash);
  });

  describe('from passwordEnv', () => {
    const PASSWORD = 'correct horse battery staple';
    const fromEnv = config({
      mailboxes: [
        { address: 'alice@example.test', passwordEnv: 'ALICE_PASSWORD' },
        { address: 'bob@example.test', passwordEnv: 'BOB_PASSWORD' },
      ],
    });
    const env = { ALICE_PASSWORD: PASSWORD, BOB_PASSWORD: PASSWORD };

    it.each([
      ['unset', {}],
      ['empty', { ALICE_PASSWORD: '', BOB_PASSWORD: 'x' }],
    ])('rejects a variable that is %s', (_, environment) => {
      expect(problemsOf(fromEnv, { env: environment })).toContain('mailboxes[0].passwordEnv: environment variable ALICE_PASSWORD is not set');
    });

    it('rejects a name that is not an environment variable name', () => {
      expect(problemsOf(aliceWith({ passwordEnv: 'ALICE-PASSWORD' }), { env: { 'ALICE-PASSWORD': 'x' } })).toContainEqual(
        valueProblem('mailboxes[0].passwordEnv', 'ALICE-PASSWORD', 'is not an environment variable name'),
      );
    });

    it('hashes the password as {SHA512-CRYPT} without keeping the clear text', () => {
      const [alice] = parse(fromEnv, { env }).mailboxes;
      expect(alice.passwordHash).toMatch(/^\{SHA512-CRYPT\}\$6\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$/);
      expect(alice.passwordHash).not.toContain(PASSWORD);
      expect(verify(PASSWORD, alice.passwordHash.replace('{SHA512-CRYPT}', ''))).toBe(true);
    });

    it('gives the same hash on every parse (deterministic synth)', () => {
      const first = parse(fromEnv, { env }).mailboxes;
      const second = parse(fromEnv, { env }).mailboxes;
      expect(second.map((m) => m.passwordHash)).toEqual(first.map((m) => m.passwordHash));
    });

    it('gives two mailboxes with the same password different hashes', () => {
      const [alice, bob] = parse(fromEnv, { env }).mailboxes;
      expect(alice.passwordHash).not.toBe(bob.passwordHash);
    });

    it('reads process.env when no env option is given', () => {
      process.env.MAILSTACK_TEST_ALICE_PASSWORD = PASSWORD;
      try {
        const text = toYaml(aliceWith({ passwordEnv: 'MAILSTACK_TEST_ALICE_PASSWORD' }));
        expect(verify(PASSWORD, parseConfig(text).mailboxes[0].passwordHash.replace('{SHA512-CRYPT}', ''))).toBe(true);
      } finally {
        delete process.env.MAILSTACK_TEST_ALICE_PASSWORD;
      }
    });
  });
});

// ---------------------------------------------------------------------------
// Cross-entry checks
// ---------------------------------------------------------------------------

describe('duplicates', () => {
  it('rejects a domain listed twice', () => {
    expect(problemsOf(config({ domains: ['example.test', 'example.test'] }))).toContain(
      'domains[1]: "example.test" is listed twice (first at domains[0])',
    );
  });

  it('rejects a domain listed twice in different case', () => {
    expect(problemsOf(config({ domains: ['example.test', 'Example.TEST'] }))).toContain(
      'domains[1]: "example.test" is listed twice (first at domains[0])',
    );
  });

  it.each(['alice@example.test', 'ALICE@Example.test'])('rejects a mailbox listed twice (as %j)', (again) => {
    expect(problemsOf(config({ mailboxes: [ALICE, BOB, mailbox(again)] }))).toContain(
      'mailboxes[2].address: "alice@example.test" is already mailboxes[0]',
    );
  });

  it('rejects an alias key listed twice in different case', () => {
    const doc = withAliases({ 'info@example.test': 'alice@example.test', 'Info@Example.test': 'bob@example.test' });
    expect(problemsOf(doc)).toContainEqual(
      problem('aliases["Info@Example.test"]', '"info@example.test" is listed twice (alias keys are not case-sensitive)'),
    );
  });

  it('rejects a target listed twice in one alias', () => {
    const doc = withAliases({ 'team@example.test': ['alice@example.test', 'Alice@example.test'] });
    expect(problemsOf(doc)).toContain('aliases["team@example.test"][1]: "alice@example.test" is listed twice');
  });
});

describe('addresses outside the mail domains', () => {
  it('rejects a mailbox in another domain', () => {
    expect(problemsOf(config({ mailboxes: [ALICE, mailbox('carol@other.test')] }))).toContain(
      'mailboxes[1].address: "carol@other.test" is not in any of the mail domains (example.test)',
    );
  });

  it('rejects an alias in another domain', () => {
    expect(problemsOf(withAliases({ 'info@other.test': 'alice@example.test' }))).toContain(
      'aliases["info@other.test"]: "info@other.test" is not in any of the mail domains (example.test)',
    );
  });

  it('rejects an address that is both a mailbox and an alias', () => {
    expect(problemsOf(withAliases({ 'bob@example.test': 'alice@example.test' }))).toContainEqual(
      problem('aliases["bob@example.test"]', '"bob@example.test" is also a mailbox (mailboxes[1])'),
    );
  });
});

describe('alias targets', () => {
  it('rejects a local target that is neither a mailbox nor an alias', () => {
    expect(problemsOf(withAliases({ 'info@example.test': 'nobody@example.test' }))).toContain(
      'aliases["info@example.test"]: points to "nobody@example.test", which is neither a mailbox nor an alias here',
    );
  });

  it('names the list position of a dangling target', () => {
    expect(problemsOf(withAliases({ 'team@example.test': ['alice@example.test', 'nobody@example.test'] }))).toContain(
      'aliases["team@example.test"][1]: points to "nobody@example.test", which is neither a mailbox nor an alias here',
    );
  });

  it('rejects a loop of aliases that reaches no mailbox', () => {
    const problems = problemsOf(withAliases({ 'a@example.test': 'b@example.test', 'b@example.test': 'a@example.test' }));
    expect(problems).toEqual(
      expect.arrayContaining([
        'aliases["a@example.test"]: forms a loop of aliases that reaches no mailbox',
        'aliases["b@example.test"]: forms a loop of aliases that reaches no mailbox',
      ]),
    );
  });

  it('accepts a chain of aliases that ends in a mailbox', () => {
    const loaded = parse(withAliases({ 'a@example.test': 'b@example.test', 'b@example.test': 'alice@example.test' }));
    expect(loaded.aliases['a@example.test']).toEqual(['b@example.test']);
    expect(loaded.aliases['b@example.test']).toEqual(['alice@example.test']);
  });

  it('accepts a loop member that also reaches a mailbox', () => {
    const loaded = parse(withAliases({ 'a@example.test': ['b@example.test', 'bob@example.test'], 'b@example.test': 'a@example.test' }));
    expect(Object.keys(loaded.aliases)).toEqual(expect.arrayContaining(['a@example.test', 'b@example.test']));
  });

  it('accepts an external target', () => {
    expect(parse(withAliases({ 'info@example.test': 'someone@elsewhere.test' })).aliases['info@example.test']).toEqual([
      'someone@elsewhere.test',
    ]);
  });

  it('accepts a catch-all of a mail domain', () => {
    expect(parse(withAliases({ '@example.test': 'alice@example.test' })).aliases['@example.test']).toEqual(['alice@example.test']);
  });

  it('accepts a local target that only the catch-all receives', () => {
    const loaded = parse(withAliases({ '@example.test': 'alice@example.test', 'info@example.test': 'sales@example.test' }));
    expect(loaded.aliases['info@example.test']).toEqual(['sales@example.test']);
  });

  it('rejects a catch-all whose target is a local address that exists nowhere', () => {
    expect(problemsOf(withAliases({ '@example.test': 'nobody@example.test' }))).toContain(
      'aliases["@example.test"]: points to "nobody@example.test", which is neither a mailbox nor an alias here',
    );
  });

  it('rejects a loop that runs through the catch-all', () => {
    expect(problemsOf(withAliases({ '@example.test': 'a@example.test', 'a@example.test': 'nobody@example.test' }))).toEqual(
      expect.arrayContaining(['aliases["a@example.test"]: forms a loop of aliases that reaches no mailbox']),
    );
  });

  it('rejects a catch-all of a domain that is not a mail domain', () => {
    expect(problemsOf(withAliases({ '@other.test': 'alice@example.test' }))).toContain(
      'aliases["@other.test"]: "@other.test" is not in any of the mail domains (example.test)',
    );
  });

  it('rejects a catch-all whose domain is not a domain name', () => {
    expectRejected(withAliases({ '@not_a_domain': 'alice@example.test' }), 'aliases["@not_a_domain"]', 'is not a catch-all (@domain) or an email address');
  });

  it('rejects a catch-all as an alias target', () => {
    expect(problemsOf(withAliases({ 'info@example.test': '@example.test' }))).toContainEqual(
      valueProblem('aliases["info@example.test"]', '@example.test', 'is not an email address'),
    );
  });
});

describe('postmaster', () => {
  it('is required for every mail domain', () => {
    expect(problemsOf(config({ aliases: undefined }))).toEqual([
      'aliases: domain "example.test" has no postmaster@example.test (RFC 5321 requires one); add e.g. "postmaster@example.test: <a mailbox>"',
    ]);
  });

  it('is required for a second domain too', () => {
    const problems = problemsOf(config({ domains: ['example.test', 'example.org'] }));
    expect(problems).toEqual([expect.stringMatching(/^aliases: domain "example\.org" has no postmaster@example\.org/)]);
  });

  it.each([
    ['a mailbox', config({ aliases: undefined, mailboxes: [ALICE, mailbox('postmaster@example.test')] })],
    ['an alias', config({ aliases: { 'postmaster@example.test': 'bob@example.test' } })],
    ['an alias to an outside address', config({ aliases: { 'postmaster@example.test': 'ops@elsewhere.test' } })],
    ['a catch-all', config({ aliases: { '@example.test': 'alice@example.test' } })],
  ])('is satisfied by %s', (_, doc) => {
    expect(parse(doc).domains).toEqual(['example.test']);
  });
});

// ---------------------------------------------------------------------------
// Relay, ports, TLS, limits, docker
// ---------------------------------------------------------------------------

describe('relay.networks', () => {
  const docWith = (...networks: string[]) => config({ relay: { networks }, ipv6: true, ports: { smtp: 25 }, docker: { hostNetwork: true } });

  it.each([
    ['not CIDR', 'my-office', 'is not a network in CIDR notation (e.g. 10.1.15.0/24)'],
    ['an address without prefix', '10.1.15.0', 'is not a network in CIDR notation'],
    ['an invalid address', '10.1.256.0/24', 'is not a network in CIDR notation'],
    ['host bits set', '10.1.15.1/24', 'has host bits set (write the network address, 10.1.15.0/24)'],
    ['IPv6 host bits set', 'fd00::1/64', 'has host bits set (write the network address, fd00::/64)'],
    ['/0 over IPv4 (open relay)', '0.0.0.0/0', 'would let the whole Internet relay through this server (an open relay)'],
    ['/0 over IPv6 (open relay)', '::/0', 'would let the whole Internet relay through this server (an open relay)'],
    ['an IPv4 prefix over 32', '10.1.15.0/33', 'has a prefix length over 32'],
    ['an IPv6 prefix over 128', 'fd00::/129', 'has a prefix length over 128'],
  ])('rejects %s', (_, network, reason) => {
    expect(problemsOf(docWith('192.168.0.0/16', network))).toContainEqual(valueProblem('relay.networks[1]', network, reason));
  });

  it('accepts IPv4 and IPv6 networks and single hosts as written', () => {
    const networks = ['10.1.15.0/24', 'fd00:1234::/32', '2001:db8::/48', '192.0.2.7/32'];
    expect(parse(docWith(...networks)).relay.networks).toEqual(networks);
  });
});

describe('ports', () => {
  it.each([0, 70000, -25])('rejects port %d', (port) => {
    expect(problemsOf(config({ ports: { smtp: port } }))).toContain(`ports.smtp: ${port} is not a TCP port (1-65535)`);
  });

  it('rejects two services on the same host port', () => {
    expect(problemsOf(config({ ports: { smtp: 2525, submission: 2525 } }))).toContain('ports.submission: 2525 is already the port of smtp');
  });

  it('accepts distinct ports and publishes only the listed services', () => {
    expect(parse(config({ ports: { smtp: 2525, imaps: 9993, pop3s: 65535 } })).ports).toEqual({ smtp: 2525, imaps: 9993, pop3s: 65535 });
  });
});

describe('tls', () => {
  const tmp = useTmpDir();
  beforeAll(() => {
    writeFileSync(join(tmp(), 'cert.pem'), '-----BEGIN CERTIFICATE-----\n');
    writeFileSync(join(tmp(), 'key.pem'), '-----BEGIN PRIVATE KEY-----\n');
  });
  const docWith = (tls: Doc) => config({ tls });

  it('rejects certFile without keyFile', () => {
    expect(problemsOf(docWith({ certFile: 'cert.pem' }), { baseDir: tmp() })).toContain('tls.keyFile: is required when tls.certFile is given');
  });

  it('rejects keyFile without certFile', () => {
    expect(problemsOf(docWith({ keyFile: 'key.pem' }), { baseDir: tmp() })).toContain('tls.certFile: is required when tls.keyFile is given');
  });

  it('rejects a certFile that does not exist, showing where it looked', () => {
    const problems = problemsOf(docWith({ certFile: 'missing.pem', keyFile: 'key.pem' }), { baseDir: tmp() });
    expect(problems).toEqual([`tls.certFile: "missing.pem" does not exist (looked for ${join(tmp(), 'missing.pem')})`]);
  });

  it('resolves relative paths against baseDir into absolute ones', () => {
    const loaded = parse(docWith({ certFile: 'cert.pem', keyFile: './key.pem' }), { baseDir: tmp() });
    expect(loaded.tls).toEqual({ certFile: join(tmp(), 'cert.pem'), keyFile: join(tmp(), 'key.pem') });
  });

  it('keeps absolute paths', () => {
    const tls = { certFile: join(tmp(), 'cert.pem'), keyFile: join(tmp(), 'key.pem') };
    expect(parse(docWith(tls), { baseDir: '/nonexistent' }).tls).toEqual(tls);
  });

  it('resolves relative paths against the directory of the loaded file', () => {
    const file = join(tmp(), 'mailstack.yaml');
    writeFileSync(file, toYaml(docWith({ certFile: 'cert.pem', keyFile: 'key.pem' })));
    expect(loadConfigFile(file, {}).tls).toEqual({ certFile: join(tmp(), 'cert.pem'), keyFile: join(tmp(), 'key.pem') });
  });

  it('treats an empty tls mapping as "self-signed"', () => {
    expect(parse(docWith({})).tls).toEqual({});
  });
});

describe('limits.messageSizeBytes', () => {
  it('rejects a size below 1024 bytes', () => {
    expect(problemsOf(config({ limits: { messageSizeBytes: 1023 } }))).toContain('limits.messageSizeBytes: must be >= 1024');
  });

  it('accepts 1024 bytes', () => {
    expect(parse(config({ limits: { messageSizeBytes: 1024 } })).limits.messageSizeBytes).toBe(1024);
  });
});

describe('docker', () => {
  it.each(['ftp://docker.example.test', '/var/run/docker.sock', 'unix://var/run/docker.sock', 'tcp://'])(
    'rejects the host %j',
    (host) => {
      expect(problemsOf(config({ docker: { host } }))).toContainEqual(valueProblem('docker.host', host, 'is not a Docker host URL'));
    },
  );

  it.each(['unix:///run/user/1000/docker.sock', 'ssh://deploy@docker.example.test', 'tcp://127.0.0.1:2375', 'npipe:////./pipe/docker_engine'])(
    'accepts the host %j',
    (host) => {
      expect(parse(config({ docker: { host } })).docker.host).toBe(host);
    },
  );

  it.each(['MailStack', 'mail/stack', '-mailstack', 'm'.repeat(41), ''])('rejects the name prefix %j', (namePrefix) => {
    expect(problemsOf(config({ docker: { namePrefix } }))).toContainEqual(valueProblem('docker.namePrefix', namePrefix, 'is not a name prefix'));
  });

  it.each(['localhost', '256.0.0.1', '10.0.0', '0.0.0.0/0'])('rejects the bind address %j', (bindAddress) => {
    expect(problemsOf(config({ docker: { bindAddress } }))).toContainEqual(
      valueProblem('docker.bindAddress', bindAddress, 'is not an IPv4 or IPv6 address'),
    );
  });

  it('accepts IPv4 and IPv6 bind addresses and keeps the other defaults', () => {
    expect(parse(config({ docker: { bindAddress: '::1' } })).docker).toEqual({
      host: 'unix:///var/run/docker.sock',
      bindAddress: '::1',
      namePrefix: 'mailstack',
      hostNetwork: false,
    });
    expect(parse(config({ docker: { bindAddress: '127.0.0.1' } })).docker.bindAddress).toBe('127.0.0.1');
  });
});

describe('relay by network needs the host network', () => {
  it('refuses relay.networks through published ports, where every client is the bridge gateway', () => {
    expect(problemsOf(config({ relay: { networks: ['10.1.15.0/24'] } }))).toContainEqual(
      expect.stringMatching(/^relay\.networks: needs docker\.hostNetwork: true; through published ports every client appears as the Docker bridge gateway/),
    );
  });

  it('refuses an IPv6 relay network unless ipv6 is on', () => {
    expect(problemsOf(config({ relay: { networks: ['10.1.15.0/24', 'fd00::/64'] }, ports: { smtp: 25 }, docker: { hostNetwork: true } }))).toEqual([
      'relay.networks[1]: "fd00::/64" is an IPv6 network; set ipv6: true for postfix to accept IPv6 clients',
    ]);
  });

  it('accepts relay.networks with hostNetwork', () => {
    const loaded = parse(config({ relay: { networks: ['10.1.15.0/24'] }, ports: { smtp: 25 }, docker: { hostNetwork: true } }));
    expect(loaded.relay.networks).toEqual(['10.1.15.0/24']);
    expect(loaded.docker.hostNetwork).toBe(true);
  });
});

describe('protocols', () => {
  it('keeps the listed services in a fixed order', () => {
    expect(parse(config({ protocols: ['pop3s', 'imaps'] })).protocols).toEqual(['imaps', 'pop3s']);
  });

  it('may turn every reading service off', () => {
    expect(parse(config({ protocols: [] })).protocols).toEqual([]);
  });

  it.each([
    ['an unknown service', { protocols: ['imap', 'smtp'] }, 'protocols[1]', 'must be one of'],
    ['a service twice', { protocols: ['imap', 'imap'] }, 'protocols', 'must NOT have duplicate items'],
    ['not a list', { protocols: 'imap' }, 'protocols', 'must be array'],
  ])('rejects %s', (_, overrides, path, reason) => {
    expect(problemsOf(config(overrides))).toContainEqual(expect.stringContaining(`${path}: ${reason}`));
  });

  it('refuses a port for a service that is off, naming both', () => {
    expect(problemsOf(config({ protocols: ['imaps'], ports: { imaps: 993, pop3: 110 } }))).toEqual([
      'ports.pop3: 110 is given but pop3 is not in protocols (imaps); add it there or drop the port',
    ]);
  });
});

describe('limits.mailboxSizeBytes', () => {
  it('is the quota of mailboxes without their own, which keep theirs (0 included)', () => {
    const loaded = parse(
      config({
        limits: { mailboxSizeBytes: 1000000 },
        mailboxes: [mailbox('alice@example.test'), mailbox('bob@example.test', { quotaBytes: 0 }), mailbox('carol@example.test', { quotaBytes: 5000 })],
      }),
    );
    expect(loaded.limits.mailboxSizeBytes).toBe(1000000);
    expect(loaded.mailboxes.map((m) => [m.address, m.quotaBytes])).toEqual([
      ['alice@example.test', 1000000],
      ['bob@example.test', 0],
      ['carol@example.test', 5000],
    ]);
  });

  it.each([
    ['negative', -1, 'must be >= 0'],
    ['a string', '1GB', 'must be integer'],
    ['a fraction', 1.5, 'must be integer'],
  ])('rejects %s', (_, mailboxSizeBytes, reason) => {
    expect(problemsOf(config({ limits: { mailboxSizeBytes } }))).toContainEqual(`limits.mailboxSizeBytes: ${reason}`);
  });
});

describe('client limits', () => {
  it('takes each limit on its own, 0 for unlimited, keeping the defaults of the rest', () => {
    expect(parse(config({ limits: { clientMessagesPerMinute: 0, clientAuthAttemptsPerMinute: 3 } })).limits).toMatchObject({
      clientConnectionsPerMinute: 60,
      clientMessagesPerMinute: 0,
      clientAuthAttemptsPerMinute: 3,
    });
  });

  it.each(['clientConnectionsPerMinute', 'clientConcurrentConnections', 'clientMessagesPerMinute', 'clientAuthAttemptsPerMinute'])('rejects a negative %s', (key) => {
    expect(problemsOf(config({ limits: { [key]: -1 } }))).toContainEqual(`limits.${key}: must be >= 0`);
  });
});

describe('ipv6', () => {
  it('is off by default and takes a boolean', () => {
    expect(parse(config({ ipv6: true })).ipv6).toBe(true);
    expect(problemsOf(config({ ipv6: 'yes' }))).toContainEqual('ipv6: must be boolean');
  });
});

// ---------------------------------------------------------------------------
// Reporting
// ---------------------------------------------------------------------------

describe('error reporting', () => {
  it('reports every value problem of a file at once', () => {
    // GIVEN a config with one problem in each of several sections
    const doc = config({
      hostname: 'localhost',
      mailboxes: [ALICE, mailbox('bob@'), mailbox('carol@other.test'), { address: 'dave@example.test' }],
      aliases: { 'info@example.test': 'nobody@example.test' },
      relay: { networks: ['0.0.0.0/0'] },
      ports: { smtp: 25, submission: 25 },
      docker: { namePrefix: 'Mail', hostNetwork: true },
    });

    // WHEN
    const problems = problemsOf(doc);

    // THEN each one is reported, and nothing else
    expect(problems).toHaveLength(9);
    expect(problems).toEqual(
      expect.arrayContaining([
        valueProblem('hostname', 'localhost', 'is not a fully qualified domain name'),
        'mailboxes[1].address: "bob@" is not an email address',
        'mailboxes[2].address: "carol@other.test" is not in any of the mail domains (example.test)',
        'mailboxes[3]: give exactly one of passwordHash or passwordEnv',
        'aliases["info@example.test"]: points to "nobody@example.test", which is neither a mailbox nor an alias here',
        valueProblem('relay.networks[0]', '0.0.0.0/0', 'would let the whole Internet relay through this server'),
        'ports.submission: 25 is already the port of smtp',
        valueProblem('docker.namePrefix', 'Mail', 'is not a name prefix'),
        problem('aliases', 'domain "example.test" has no postmaster@example.test'),
      ]),
    );
  });

  it('reports every shape problem of a file at once', () => {
    const doc = config({ hostname: undefined, domains: 'example.test', mailboxes: [{ address: 'alice@example.test', pasword: 'x' }], extra: true });
    const problems = problemsOf(doc);
    expect(problems).toHaveLength(4);
    expect(problems).toEqual(
      expect.arrayContaining([
        'hostname: is required',
        'domains: must be array',
        'mailboxes[0].pasword: is not a known key',
        'extra: is not a known key',
      ]),
    );
  });

  it('throws a ConfigError whose message names the file and lists each problem', () => {
    // WHEN
    let error: unknown;
    try {
      parseConfig(toYaml(config({ hostname: 'localhost', ports: { smtp: 0 } })), { file: 'site/mailstack.yaml', env: {} });
    } catch (err) {
      error = err;
    }

    // THEN
    expect(error).toBeInstanceOf(ConfigError);
    const configError = error as ConfigError;
    expect(configError.name).toBe('ConfigError');
    expect(configError.file).toBe('site/mailstack.yaml');
    expect(configError.message).toMatch(/^site\/mailstack\.yaml: invalid mailstack configuration:\n/);
    for (const p of configError.problems) expect(configError.message).toContain(`\n  - ${p}`);
    expect(configError.problems).toHaveLength(2);
  });

  it('uses <config> as the file name when none is given', () => {
    expect(() => parseConfig('- not a mapping')).toThrow(/^<config>: invalid mailstack configuration/);
  });

  it('reports a file that cannot be read as a ConfigError', () => {
    const path = join(tmpdir(), 'mailstack-does-not-exist', 'mailstack.yaml');
    expect(() => loadConfigFile(path, {})).toThrow(ConfigError);
    expect(() => loadConfigFile(path, {})).toThrow(/cannot read the file: ENOENT/);
  });
});

// ---------------------------------------------------------------------------
// The building blocks, directly
// ---------------------------------------------------------------------------

describe('checkMailDirectory', () => {
  it('returns one message per problem, each starting with its key path', () => {
    // GIVEN a directory as the MailServer construct would pass it (already normalized)
    const dir = {
      domains: ['example.test', 'example.org'],
      mailboxes: [{ address: 'alice@example.test' }, { address: 'alice@example.test' }],
      aliases: {
        'postmaster@example.test': ['alice@example.test'],
        'postmaster@example.org': ['alice@example.test'],
        'a@example.test': ['b@example.test'],
        'b@example.test': ['a@example.test'],
      },
    };

    // WHEN / THEN
    expect(checkMailDirectory(dir)).toEqual([
      'mailboxes[1].address: "alice@example.test" is already mailboxes[0]',
      'aliases["a@example.test"]: forms a loop of aliases that reaches no mailbox',
      'aliases["b@example.test"]: forms a loop of aliases that reaches no mailbox',
    ]);
  });

  it('returns no problems for a consistent directory', () => {
    expect(
      checkMailDirectory({
        domains: ['example.test'],
        mailboxes: [{ address: 'alice@example.test' }],
        aliases: { 'postmaster@example.test': ['alice@example.test'] },
      }),
    ).toEqual([]);
  });
});

describe('hashPassword', () => {
  const hash = hashPassword('alice@example.test', 'alice-secret');
  const crypt = hash.replace(/^\{SHA512-CRYPT\}/, '');

  it('produces a {SHA512-CRYPT} hash', () => {
    expect(hash).toMatch(/^\{SHA512-CRYPT\}\$6\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$/);
  });

  it('verifies with the password', () => {
    expect(verify('alice-secret', crypt)).toBe(true);
  });

  it('does not verify with a wrong password', () => {
    expect(verify('alice-secreT', crypt)).toBe(false);
  });

  it('salts per address', () => {
    expect(hashPassword('bob@example.test', 'alice-secret')).not.toBe(hash);
  });
});

describe('extra SMTP ports and the recipient delimiter', () => {
  it('takes extra SMTP listeners, refusing standard and taken ports', () => {
    expect(parse(config({ ports: { smtp: 25, extraSmtp: [10025, 2526] } })).extraSmtpPorts).toEqual([10025, 2526]);
    expect(problemsOf(config({ ports: { smtp: 2525, extraSmtp: [587] } }))).toContainEqual(problem('ports.extraSmtp[0]', '587 is a standard SMTP port'));
    expect(problemsOf(config({ ports: { smtp: 10025, extraSmtp: [10025] } }))).toContainEqual(problem('ports.extraSmtp[0]', '10025 is already the port of smtp'));
    expect(problemsOf(config({ ports: { extraSmtp: [0] } }))).toContainEqual(problem('ports.extraSmtp[0]', 'is not a TCP port'));
  });

  it('takes one delimiter character or none, nothing that could end up as syntax', () => {
    expect(parse(config({ recipientDelimiter: '-' })).recipientDelimiter).toBe('-');
    expect(parse(config({ recipientDelimiter: '' })).recipientDelimiter).toBe('');
    for (const bad of ['++', '#', ' ', '\n', 'a']) {
      expect(problemsOf(config({ recipientDelimiter: bad }))).toContainEqual(problem('recipientDelimiter', 'is not one of + - = _ . or ""'));
    }
  });
});
