/**
 * Property-based tests of the config loader: a valid mailstack.yaml with one
 * or more fields replaced by arbitrary values (unicode, syntax characters,
 * very long strings, wrong types, nested structures) is either refused with a
 * ConfigError whose every problem names the changed field (or a parent of it,
 * or one of the cross-entry checks listed per field), or accepted, and then
 * the synthesized stack's daemon files carry nothing but what the config
 * means: no injected line, key or field anywhere.
 *
 * Reproducible: a fixed seed, FC_SEED to try another; FC_RUNS multiplies the
 * number of runs for a deeper search.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Testing } from 'cdktf';
import fc from 'fast-check';
import * as yaml from 'js-yaml';
import { Expr, parseTemplate } from '../../applier/expressions';
import { ConfigError, LoadOptions, parseConfig } from '../../config/load';
import { MailstackConfig } from '../../config/model';
import { domainOf, mynetworksEntry } from '../../config/rules';
import { MailStack } from '../../constructs/mail-stack';
import schema from '../../mailstack.schema.json';
import { TerraformJson, uploadsOf, UploadedFile } from '../support/synth';

const SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : 0x6d61696c;
const RUNS = Number(process.env.FC_RUNS ?? 1);
const runs = (n: number) => Math.max(1, Math.round(n * RUNS));
fc.configureGlobal({ seed: SEED });

jest.setTimeout(120_000);

// ---------------------------------------------------------------------------
// The base configs every mutation starts from: every field of the schema set
// ---------------------------------------------------------------------------

/** `doveadm pw -s SHA512-CRYPT` of "alice-secret". */
const HASH = '{SHA512-CRYPT}$6$G379Mwf3zgyfW.7A$bHUdNfm4gudV5ZWPaHUgZViATTlewopiy41tGiuPy68gRZNPvPefRN18xs761vuORcBMqvlMmrsywYZ3yKZYR0';
const BLF_HASH = '{BLF-CRYPT}$2y$05$zdrxIapkLRnF8DLMuRDSDOqvrDTbAPfOvWmP4KXThMMKUHNJ5RpJ2';
const ZONE_ID = (c: string) => c.repeat(32);

type Doc = Record<string, unknown>;

const MAIN: Doc = {
  $schema: './mailstack.schema.json',
  hostname: 'mail.example.test',
  domains: ['example.test', 'example.org'],
  mailboxes: [
    { address: 'alice@example.test', passwordHash: HASH, quotaBytes: 1048576 },
    { address: 'bob@example.org', passwordHash: BLF_HASH },
  ],
  aliases: {
    'postmaster@example.test': 'alice@example.test',
    'postmaster@example.org': ['alice@example.test', 'bob@example.org'],
    '@example.org': 'bob@example.org',
    'team@example.test': ['alice@example.test', 'friend@elsewhere.test'],
  },
  relay: {
    networks: ['10.1.15.0/24', '2001:db8::/32'],
    smarthost: { host: 'smtp.relay.test', port: 587, tls: 'starttls', username: 'relay-user' },
  },
  limits: {
    messageSizeBytes: 10485760,
    mailboxSizeBytes: 2097152,
    clientConnectionsPerMinute: 60,
    clientConcurrentConnections: 20,
    clientMessagesPerMinute: 100,
    clientAuthAttemptsPerMinute: 10,
  },
  protocols: ['imap', 'imaps', 'pop3', 'pop3s'],
  ipv6: true,
  ports: { smtp: 25, submission: 587, submissions: 465, imap: 143, imaps: 993, pop3: 110, pop3s: 995, extraSmtp: [10025] },
  recipientDelimiter: '+',
  tls: { certFile: 'cert.pem', keyFile: 'key.pem' },
  docker: { host: 'unix:///var/run/docker.sock', bindAddress: '0.0.0.0', namePrefix: 'mailstack', hostNetwork: true },
  dkim: { enabled: true, selector: 'mailstack', keyBits: 2048 },
  dns: {
    provider: 'rfc2136',
    rfc2136: { server: 'ns1.example.test', port: 53, keyName: 'mailstack', keyAlgorithm: 'hmac-sha256' },
    zones: ['example.test', 'example.org'],
    ttl: 3600,
    addresses: ['192.0.2.25', '2001:db8::25'],
    mx: true,
    spf: 'v=spf1 mx -all',
    dkim: true,
    dmarc: { policy: 'quarantine', rua: 'dmarc@example.test', adkim: 'r', aspf: 'r', percent: 100 },
    mtaSts: { mode: 'testing', maxAgeSeconds: 604800 },
    tlsRpt: { rua: 'tls-reports@example.test' },
    srv: true,
  },
};

const clone = <T>(value: T): T => structuredClone(value);
const merged = (overrides: (doc: Doc) => void): Doc => {
  const doc = clone(MAIN);
  overrides(doc);
  return doc;
};

/** Fields that only apply with another setting get a base of their own. */
const VARIANTS = {
  main: MAIN,
  env: merged((d) => {
    (d.mailboxes as Doc[])[1] = { address: 'bob@example.org', passwordEnv: 'BOB_PASSWORD' };
  }),
  ssh: merged((d) => {
    d.docker = { ...(d.docker as Doc), host: 'ssh://deploy@docker.example.test:2222', sshOptions: ['-o', 'StrictHostKeyChecking=yes'] };
  }),
  tcpTls: merged((d) => {
    d.docker = { ...(d.docker as Doc), host: 'tcp://docker.example.test:2376', tls: { caFile: 'ca.pem', certFile: 'cert.pem', keyFile: 'key.pem' } };
  }),
  /** The zones default to the domains, so a new domain gets records of its own. */
  defaultZones: merged((d) => {
    delete (d.dns as Doc).zones;
  }),
  cloudflare: merged((d) => {
    const dns = d.dns as Doc;
    delete dns.rfc2136;
    dns.provider = 'cloudflare';
    dns.cloudflare = { zoneIds: { 'example.test': ZONE_ID('a'), 'example.org': ZONE_ID('b') } };
  }),
};
type Variant = keyof typeof VARIANTS;

const ENV = { BOB_PASSWORD: 'b0b-secret' };

/** The certificate files the configs name, relative to baseDir; some with names that are odd but fine. */
const ODD_FILE_NAMES = ['a b.pem', 'x#1,2:{y}.pem', "it's $HOME %d.pem", 'ünïcödé.pem'];
let baseDir = '';
beforeAll(() => {
  baseDir = mkdtempSync(join(tmpdir(), 'mailstack-properties-'));
  for (const name of ['cert.pem', 'key.pem', 'ca.pem', ...ODD_FILE_NAMES]) writeFileSync(join(baseDir, name), 'PEM\n');
});
afterAll(() => rmSync(baseDir, { recursive: true, force: true }));
const options = (): LoadOptions => ({ file: 'mailstack.yaml', baseDir, env: ENV });

// ---------------------------------------------------------------------------
// Values: near-valid ones per field, and junk of every kind
// ---------------------------------------------------------------------------

/** Characters that mean something in one of the files or formats a value can reach. */
const SYNTAX = ['\n', '\r', '\r\n', '\0', '\t', '\v', ' ', '#', ',', ':', ';', '=', '{', '}', '[', ']', '${', '%{', '$', '%', '"', "'", '\\', '<', '>', '|', '*', '!', '/', '@', '..', '-', '+', '\u0085', '\u2028', '\ufeff', '\u00a0', '\u0130', '\u212a'];
const syntaxString = fc.string({ unit: fc.constantFrom(...SYNTAX, 'a', 'b', '1', '.'), maxLength: 12 });
const longString = fc.oneof(
  fc.string({ unit: 'grapheme-ascii', minLength: 254, maxLength: 1500 }),
  fc.integer({ min: 60, max: 4000 }).map((n) => `${'a'.repeat(n)}.example.test`),
  fc.integer({ min: 60, max: 4000 }).map((n) => `${'a'.repeat(n)}@example.test`),
);
const junkString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 24 }),
  fc.string({ unit: 'grapheme', maxLength: 24 }),
  syntaxString,
  longString,
  fc.constantFrom('', ' ', '~', 'null', 'true', 'no', '0x1F', '1e3', '.inf', '-', '__proto__', 'constructor', 'toString'),
  fc.integer().map(String),
);
const junkNumber = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(-1, 0, 2 ** 31, 2 ** 32 + 1, 2 ** 53 + 2, 1e21, 1e300, -0));
const junkScalar = fc.oneof(junkString, junkNumber, fc.boolean(), fc.constant(null));
const junkStructure = fc.oneof(fc.array(junkScalar, { maxLength: 3 }), fc.dictionary(junkString, junkScalar, { maxKeys: 3 }), fc.jsonValue({ maxDepth: 3 }));

/** A string with syntax characters put in at random places. */
const spliced = (valid: fc.Arbitrary<string>) =>
  fc.tuple(valid, fc.array(fc.tuple(fc.nat(), fc.constantFrom(...SYNTAX)), { minLength: 1, maxLength: 3 })).map(([v, inserts]) =>
    inserts.reduce((s, [at, c]) => s.slice(0, at % (s.length + 1)) + c + s.slice(at % (s.length + 1)), v),
  );

/** Near-valid values for a string field: mostly its own kind, sometimes spliced, sometimes junk. */
const forString = (near: fc.Arbitrary<string>, stringsOnly = false): fc.Arbitrary<unknown> =>
  stringsOnly
    ? fc.oneof({ weight: 4, arbitrary: near }, { weight: 2, arbitrary: spliced(near) }, { weight: 2, arbitrary: junkString })
    : fc.oneof({ weight: 4, arbitrary: near }, { weight: 2, arbitrary: spliced(near) }, { weight: 1, arbitrary: junkScalar }, { weight: 1, arbitrary: junkStructure });
const forValue = (near: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> =>
  fc.oneof({ weight: 4, arbitrary: near }, { weight: 1, arbitrary: junkScalar }, { weight: 1, arbitrary: junkStructure });

const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/);
const tld = fc.stringMatching(/^[a-z]{2,6}$/);
/** Lengths around the 253-character limit. */
const longDomain = fc.integer({ min: 230, max: 256 }).map((n) => {
  const labels: string[] = [];
  let rest = n - 5; // ".test"
  while (rest > 0) {
    const len = Math.min(63, rest - (labels.length ? 1 : 0));
    if (len <= 0) break;
    labels.push('a'.repeat(len));
    rest -= len + (labels.length > 1 ? 1 : 0);
  }
  return `${labels.join('.')}.test`;
});
const domainName = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.array(label, { minLength: 1, maxLength: 4 }), tld).map(([ls, t]) => [...ls, t].join('.')) },
  { weight: 1, arbitrary: fc.domain() },
  { weight: 1, arbitrary: longDomain },
  { weight: 1, arbitrary: fc.constantFrom('example.test', 'example.org', 'EXAMPLE.Test', 'mail.example.test', 'localhost', '192.0.2.1', 'example.test.', 'xn--bcher-kva.example') },
);
const casey = (arb: fc.Arbitrary<string>) => fc.oneof({ weight: 3, arbitrary: arb }, { weight: 1, arbitrary: fc.mixedCase(arb) });
const mailDomain = fc.constantFrom('example.test', 'example.org');
const localPart = fc.oneof(fc.stringMatching(/^[a-z0-9_][a-z0-9_.-]{0,20}$/), fc.constantFrom('postmaster', 'alice', 'bob', 'team', 'friend', 'a'.repeat(64), 'a'.repeat(65)));
const address = (domain: fc.Arbitrary<string> = fc.oneof(mailDomain, mailDomain, domainName)) =>
  fc.oneof({ weight: 5, arbitrary: casey(fc.tuple(localPart, domain).map(([l, d]) => `${l}@${d}`)) }, { weight: 1, arbitrary: fc.emailAddress() });
const zoned = (ip: fc.Arbitrary<string>) => fc.tuple(ip, fc.stringMatching(/^[a-zA-Z0-9.:-]{1,8}$/)).map(([a, z]) => `${a}%${z}`);
const ipAddress = fc.oneof(fc.ipV4(), fc.ipV6(), fc.ipV4Extended(), zoned(fc.constantFrom('fe80::1', '::1')), fc.constantFrom('0.0.0.0', '::', '127.0.0.1', '::1', '::ffff:192.0.2.1'));
const network = fc.oneof(
  fc.tuple(fc.oneof(fc.ipV4(), fc.ipV6(), zoned(fc.constant('fe80::'))), fc.integer({ min: -1, max: 130 })).map(([a, p]) => `${a}/${p}`),
  fc.constantFrom('10.1.15.0/24', '192.168.0.0/16', 'fd00::/8', '2001:db8::/32', '192.0.2.7/32', '0.0.0.0/0', '::/0', '10.1.15.1/24', '[fd00::]/8'),
);
const port = fc.oneof(fc.integer({ min: 1, max: 65535 }), fc.integer({ min: -5, max: 70000 }), fc.constantFrom(25, 465, 587, 143, 993, 110, 995, 10025, 2525));
const bytes = fc.oneof(fc.nat(), fc.integer({ min: 2 ** 31 - 2, max: 2 ** 31 + 2 }), fc.constantFrom(0, 1024, 1023, 2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, 1e21, 1.5, -1));
const count = fc.oneof(fc.nat({ max: 1000 }), fc.constantFrom(-1, 0, 2 ** 31 - 1, 2 ** 31, 2 ** 53 + 2, 1e21, 0.5));
const hash = fc.oneof(
  fc.constantFrom(HASH, BLF_HASH, '{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo', '{PLAIN}secret', '{CRYPT}$1$abc$def', HASH.slice(14)),
  fc.tuple(fc.constantFrom('SHA512-CRYPT', 'SHA256-CRYPT', 'BLF-CRYPT', 'ARGON2I', 'ARGON2ID', 'MD5', 'sha512-crypt'), fc.stringMatching(/^\$[A-Za-z0-9./$=,+-]{1,40}$/)).map(([s, b]) => `{${s}}${b}`),
);
const envName = fc.oneof(fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,12}$/), fc.constantFrom('BOB_PASSWORD', 'constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', '__defineGetter__'));
const filePath = fc.oneof(fc.constantFrom('cert.pem', './key.pem', 'ca.pem', 'missing.pem', '../cert.pem', '', ...ODD_FILE_NAMES), fc.constant('ABS').map(() => join(baseDir, 'cert.pem')));
const dockerHost = fc.oneof(
  fc.constantFrom('unix:///var/run/docker.sock', 'unix:///run/user/1000/docker.sock', 'npipe:////./pipe/docker_engine', 'tcp://127.0.0.1:2375', 'tcp://[::1]:2375', 'tcp://localhost:2375', 'tcp://docker.example.test:2376', 'tcp://docker.example.test:2375', 'ssh://deploy@docker.example.test', 'ssh://docker.example.test:22', 'http://docker.example.test:2375', '/var/run/docker.sock'),
  fc.tuple(fc.constantFrom('tcp', 'ssh', 'unix', 'npipe'), fc.option(fc.stringMatching(/^[a-z_][a-z0-9_.-]{0,8}$/)), fc.oneof(domainName, fc.ipV4(), fc.ipV6().map((a) => `[${a}]`)), fc.option(port)).map(
    ([scheme, user, host, p]) => `${scheme}://${user ? `${user}@` : ''}${host}${p === null ? '' : `:${p}`}`,
  ),
);
const sshOption = fc.oneof(fc.constantFrom('-i', '~/.ssh/deploy', '-o', 'StrictHostKeyChecking=yes', '-oProxyCommand=ssh -W %h:%p bastion', '-p', '2222'), fc.string({ unit: 'grapheme-ascii', maxLength: 20 }));
const namePrefix = fc.oneof(fc.stringMatching(/^[a-z0-9][a-z0-9_.-]{0,44}$/), fc.constantFrom('mailstack', 'MailStack', '-x', 'a'.repeat(40), 'a'.repeat(41), 'constructor', '__proto__'));
const selector = fc.oneof(label, fc.constantFrom('mailstack', '2024', 'a'.repeat(63), 'a'.repeat(64), 'sel.ector', '_sel'));
const reportAddress = fc.oneof(address(), fc.constantFrom('dmarc+reports@example.test', 'a%b@example.test', 'x@y', 'x@example.test;ruf=mailto:evil@x.test'));
const spf = fc.oneof(
  fc.constantFrom('v=spf1 mx -all', 'v=spf1 ip4:192.0.2.0/24 include:_spf.example.net ~all', 'v=spf1 exists:%{i}._spf.example.test -all', 'v=spf1 ${path.cwd} -all', 'v=spf1 a:${var.smarthost_password} -all', 'spf1 mx', `v=spf1 ${'a'.repeat(460)}`),
  fc.string({ unit: 'grapheme-ascii', maxLength: 40 }).map((s) => `v=spf1 ${s}`),
);
const enumOf = (...values: unknown[]) => fc.constantFrom(...values);
const bool = fc.boolean();
const protocolsList = fc.oneof(fc.subarray(['imap', 'imaps', 'pop3', 'pop3s']), fc.shuffledSubarray(['imap', 'imaps', 'pop3', 'pop3s']), fc.array(fc.constantFrom('imap', 'imaps', 'pop3', 'pop3s', 'smtp', 'IMAP'), { maxLength: 5 }));

// ---------------------------------------------------------------------------
// Fields: where a value goes, and which problems a change there may cause
// ---------------------------------------------------------------------------

/** A segment of a location in the document; `{ key }` is a key of a map the user names (aliases, zoneIds). */
type Seg = string | number | { key: string };

/** A key path as the loader writes it: mailboxes[0].address, aliases["x@example.test"][1]. */
const keyPath = (segs: readonly Seg[]): string =>
  segs.reduce<string>((p, s) => (typeof s === 'number' ? `${p}[${s}]` : typeof s === 'object' ? `${p}[${JSON.stringify(s.key)}]` : p ? `${p}.${s}` : s), '');

/**
 * Problems a change may cause beyond its own key path and its parents: the
 * cross-entry checks. Each is named for what it says.
 */
const CROSS = {
  /** A mailbox or alias of a domain that is no longer listed. */
  notInDomains: /^(mailboxes\[\d+\]\.address|aliases\[".*"\]): ".*" is not in any of the mail domains \(/s,
  /** RFC 5321 postmaster of a domain that lost it. */
  postmaster: /^aliases: domain ".*" has no postmaster@/s,
  /** A domain outside the explicit dns.zones. */
  domainZone: /^dns\.zones: domain ".*" \(domains\[\d+\]\) is in none of the zones/s,
  hostnameZone: /^dns\.addresses: the A\/AAAA records of hostname ".*" belong in none of the zones/s,
  /** Duplicates are reported at the later entry, which may be an unchanged one. */
  duplicateDomain: /^domains\[\d+\]: ".*" is listed twice \(first at domains\[\d+\]\)$/s,
  duplicateMailbox: /^mailboxes\[\d+\]\.address: ".*" is already mailboxes\[\d+\]$/s,
  duplicateAlias: /^aliases\[".*"\]: ".*" is listed twice \(alias keys are not case-sensitive\)$/s,
  duplicateTarget: /^aliases\[".*"\]\[\d+\]: ".*" is listed twice$/s,
  /** An alias whose target was the changed mailbox or alias. */
  aliasReach: /^aliases\[".*"\](\[\d+\])?: (points to ".*", which is neither a mailbox nor an alias here|forms a loop of aliases that reaches no mailbox)$/s,
  aliasIsMailbox: /^aliases\[".*"\]: ".*" is also a mailbox \(mailboxes\[\d+\]\); an address is one or the other$/s,
  portTaken: /^ports\.(\w+|extraSmtp\[\d+\]): -?\d+ is already the port of [\w.[\]]+$/s,
  portWithoutProtocol: /^ports\.\w+: -?\d+ is given but \w+ is not in protocols \(.*\); add it there or drop the port$/s,
  ipv6Network: /^relay\.networks\[\d+\]: ".*" is an IPv6 network; set ipv6: true/,
  needsHostNetwork: /^relay\.networks: needs docker\.hostNetwork: true/s,
  dockerTlsScheme: /^docker\.tls: only applies to a tcp:\/\/ docker\.host/s,
  dockerSshScheme: /^docker\.sshOptions: only applies to an ssh:\/\/ docker\.host/s,
  providerSection: /^dns\.(rfc2136|cloudflare): is required with provider /s,
  /** A DKIM selector or a DNS record turned on makes a long domain's record names too long. */
  recordNameTooLong: /^domains\[\d+\]: ".*" is too long for its DNS records: /s,
  cloudflareZone: /^dns\.cloudflare\.zoneIds(\[".*"\])?: (zone ".*" has no zone id|is not one of the zones \()/s,
};
const DIRECTORY = [CROSS.notInDomains, CROSS.postmaster, CROSS.aliasReach, CROSS.aliasIsMailbox, CROSS.duplicateAlias, CROSS.duplicateMailbox, CROSS.duplicateTarget];

interface Field {
  /** The schema leaf it covers ('mailboxes[].address', 'aliases{}' for keys, 'aliases{}[]' for targets). */
  readonly schema: string;
  readonly at: readonly Seg[];
  readonly values: fc.Arbitrary<unknown>;
  /** @default 'main' */
  readonly variant?: Variant;
  /** The last segment is a map key that the value (a string) replaces. */
  readonly renamesKey?: boolean;
  /** Cross-entry problems the change may cause. @default none */
  readonly cross?: readonly RegExp[];
  /** What goes with the value (a new domain's postmaster). */
  readonly also?: (doc: Doc, value: unknown) => void;
}

const alias = (key: string): Seg => ({ key });
const mainPorts = ['smtp', 'submission', 'submissions', 'imap', 'imaps', 'pop3', 'pop3s'] as const;
const limits = ['clientConnectionsPerMinute', 'clientConcurrentConnections', 'clientMessagesPerMinute', 'clientAuthAttemptsPerMinute'] as const;

const FIELDS: readonly Field[] = [
  { schema: '$schema', at: ['$schema'], values: forString(fc.constantFrom('./mailstack.schema.json', 'https://mailstack.dev/schema/mailstack.schema.json')) },
  { schema: 'hostname', at: ['hostname'], values: forString(casey(domainName)), cross: [CROSS.hostnameZone] },
  ...[0, 1].map(
    (i): Field => ({
      schema: 'domains[]',
      at: ['domains', i],
      values: forString(casey(domainName)),
      cross: [CROSS.notInDomains, CROSS.postmaster, CROSS.domainZone, CROSS.duplicateDomain],
    }),
  ),
  {
    // A third domain with its postmaster, in a zone of its own: accepted whenever the name is.
    schema: 'domains[]',
    at: ['domains', 2],
    variant: 'defaultZones',
    values: forString(casey(domainName)),
    also: (doc, value) => ((doc.aliases as Doc)[`postmaster@${typeof value === "string" ? value : JSON.stringify(value)}`] = "alice@example.test"),
    cross: [/^aliases\["postmaster@.*"\]: /s, CROSS.postmaster, CROSS.duplicateDomain],
  },
  ...[0, 1].map((i): Field => ({ schema: 'mailboxes[].address', at: ['mailboxes', i, 'address'], values: forString(address()), cross: [...DIRECTORY] })),
  { schema: 'mailboxes[].passwordHash', at: ['mailboxes', 0, 'passwordHash'], values: forString(hash) },
  { schema: 'mailboxes[].passwordEnv', at: ['mailboxes', 1, 'passwordEnv'], variant: 'env', values: forString(envName) },
  ...[0, 1].map((i): Field => ({ schema: 'mailboxes[].quotaBytes', at: ['mailboxes', i, 'quotaBytes'], values: forValue(bytes) })),
  ...['postmaster@example.test', '@example.org', 'team@example.test'].map(
    (key): Field => ({ schema: 'aliases{}', at: ['aliases', alias(key)], renamesKey: true, values: forString(fc.oneof(address(), domainName.map((d) => `@${d}`)), true), cross: [...DIRECTORY] }),
  ),
  { schema: 'aliases{}', at: ['aliases', alias('@example.org')], values: forString(address()), cross: [...DIRECTORY] },
  ...[0, 1].map((j): Field => ({ schema: 'aliases{}[]', at: ['aliases', alias('postmaster@example.org'), j], values: forString(address()), cross: [...DIRECTORY] })),
  { schema: 'aliases{}[]', at: ['aliases', alias('team@example.test'), 1], values: forString(address()), cross: [...DIRECTORY] },
  ...[0, 1].map((i): Field => ({ schema: 'relay.networks[]', at: ['relay', 'networks', i], values: forString(network), cross: [CROSS.ipv6Network] })),
  { schema: 'relay.smarthost.host', at: ['relay', 'smarthost', 'host'], values: forString(fc.oneof(casey(domainName), ipAddress, label)) },
  { schema: 'relay.smarthost.port', at: ['relay', 'smarthost', 'port'], values: forValue(port) },
  { schema: 'relay.smarthost.tls', at: ['relay', 'smarthost', 'tls'], values: forValue(enumOf('starttls', 'implicit', 'none', 'STARTTLS', 'tls')) },
  { schema: 'relay.smarthost.username', at: ['relay', 'smarthost', 'username'], values: forString(fc.oneof(fc.stringMatching(/^[A-Za-z0-9._@+=-]{1,20}$/), address(), fc.constant('a'.repeat(129)))) },
  { schema: 'limits.messageSizeBytes', at: ['limits', 'messageSizeBytes'], values: forValue(bytes) },
  { schema: 'limits.mailboxSizeBytes', at: ['limits', 'mailboxSizeBytes'], values: forValue(bytes) },
  ...limits.map((key): Field => ({ schema: `limits.${key}`, at: ['limits', key], values: forValue(count) })),
  { schema: 'protocols[]', at: ['protocols'], values: forValue(protocolsList), cross: [CROSS.portWithoutProtocol] },
  { schema: 'protocols[]', at: ['protocols', 2], values: forValue(enumOf('imap', 'imaps', 'pop3', 'pop3s', 'smtp', 'POP3')), cross: [CROSS.portWithoutProtocol] },
  { schema: 'ipv6', at: ['ipv6'], values: forValue(bool), cross: [CROSS.ipv6Network] },
  ...mainPorts.map((service): Field => ({ schema: `ports.${service}`, at: ['ports', service], values: forValue(port), cross: [CROSS.portTaken] })),
  { schema: 'ports.extraSmtp[]', at: ['ports', 'extraSmtp', 0], values: forValue(port), cross: [CROSS.portTaken] },
  { schema: 'ports.extraSmtp[]', at: ['ports', 'extraSmtp'], values: forValue(fc.array(port, { maxLength: 4 })), cross: [CROSS.portTaken] },
  { schema: 'recipientDelimiter', at: ['recipientDelimiter'], values: forString(fc.constantFrom('', '+', '-', '=', '_', '.', '++', '+-', '#', '%', '@')) },
  { schema: 'tls.certFile', at: ['tls', 'certFile'], values: forString(filePath) },
  { schema: 'tls.keyFile', at: ['tls', 'keyFile'], values: forString(filePath) },
  { schema: 'docker.host', at: ['docker', 'host'], values: forString(dockerHost) },
  { schema: 'docker.host', at: ['docker', 'host'], variant: 'ssh', values: forString(dockerHost), cross: [CROSS.dockerSshScheme] },
  { schema: 'docker.host', at: ['docker', 'host'], variant: 'tcpTls', values: forString(dockerHost), cross: [CROSS.dockerTlsScheme] },
  ...(['caFile', 'certFile', 'keyFile'] as const).map((key): Field => ({ schema: `docker.tls.${key}`, at: ['docker', 'tls', key], variant: 'tcpTls', values: forString(filePath) })),
  ...[0, 1].map((i): Field => ({ schema: 'docker.sshOptions[]', at: ['docker', 'sshOptions', i], variant: 'ssh', values: forString(sshOption) })),
  { schema: 'docker.bindAddress', at: ['docker', 'bindAddress'], values: forString(ipAddress) },
  { schema: 'docker.namePrefix', at: ['docker', 'namePrefix'], values: forString(namePrefix) },
  { schema: 'docker.hostNetwork', at: ['docker', 'hostNetwork'], values: forValue(bool), cross: [CROSS.needsHostNetwork] },
  { schema: 'dkim.enabled', at: ['dkim', 'enabled'], values: forValue(bool) },
  { schema: 'dkim.selector', at: ['dkim', 'selector'], values: forString(selector), cross: [CROSS.recordNameTooLong] },
  { schema: 'dkim.keyBits', at: ['dkim', 'keyBits'], values: forValue(enumOf(1024, 2048, 3072, 4096, 512, '2048')) },
  { schema: 'dns.provider', at: ['dns', 'provider'], values: forValue(enumOf('rfc2136', 'cloudflare', 'none', 'route53')), cross: [CROSS.providerSection] },
  { schema: 'dns.provider', at: ['dns', 'provider'], variant: 'cloudflare', values: forValue(enumOf('rfc2136', 'cloudflare', 'none')), cross: [CROSS.providerSection] },
  { schema: 'dns.rfc2136.server', at: ['dns', 'rfc2136', 'server'], values: forString(fc.oneof(domainName, ipAddress, label)) },
  { schema: 'dns.rfc2136.port', at: ['dns', 'rfc2136', 'port'], values: forValue(port) },
  { schema: 'dns.rfc2136.keyName', at: ['dns', 'rfc2136', 'keyName'], values: forString(fc.oneof(label, domainName, domainName.map((d) => `${d}.`))) },
  { schema: 'dns.rfc2136.keyAlgorithm', at: ['dns', 'rfc2136', 'keyAlgorithm'], values: forValue(enumOf('hmac-sha256', 'hmac-sha512', 'hmac-sha1', 'hmac-md5', 'HMAC-SHA256')) },
  {
    schema: 'dns.cloudflare.zoneIds{}',
    at: ['dns', 'cloudflare', 'zoneIds', alias('example.test')],
    variant: 'cloudflare',
    renamesKey: true,
    values: forString(casey(domainName), true),
    cross: [CROSS.cloudflareZone],
  },
  {
    schema: 'dns.cloudflare.zoneIds{}',
    at: ['dns', 'cloudflare', 'zoneIds', alias('example.org')],
    variant: 'cloudflare',
    values: forString(fc.oneof(fc.stringMatching(/^[0-9a-f]{32}$/), fc.stringMatching(/^[0-9a-fA-F]{30,34}$/))),
    cross: [CROSS.cloudflareZone],
  },
  ...[0, 1].map((i): Field => ({ schema: 'dns.zones[]', at: ['dns', 'zones', i], values: forString(casey(fc.oneof(domainName, domainName.map((d) => `${d}.`)))), cross: [CROSS.domainZone, CROSS.hostnameZone] })),
  { schema: 'dns.zones[]', at: ['dns', 'zones', 0], variant: 'cloudflare', values: forString(casey(domainName)), cross: [CROSS.domainZone, CROSS.hostnameZone, CROSS.cloudflareZone] },
  { schema: 'dns.ttl', at: ['dns', 'ttl'], values: forValue(fc.oneof(count, bytes)) },
  ...[0, 1].map((i): Field => ({ schema: 'dns.addresses[]', at: ['dns', 'addresses', i], values: forString(ipAddress) })),
  ...(['mx', 'dkim', 'srv'] as const).map((key): Field => ({ schema: `dns.${key}`, at: ['dns', key], values: forValue(bool) })),
  { schema: 'dns.spf', at: ['dns', 'spf'], values: forValue(fc.oneof(spf, spliced(spf), bool)) },
  { schema: 'dns.dmarc', at: ['dns', 'dmarc'], values: forValue(fc.oneof(bool, fc.record({ policy: enumOf('none', 'reject') }, { requiredKeys: [] }))) },
  { schema: 'dns.dmarc.policy', at: ['dns', 'dmarc', 'policy'], values: forValue(enumOf('none', 'quarantine', 'reject', 'REJECT')) },
  { schema: 'dns.dmarc.rua', at: ['dns', 'dmarc', 'rua'], values: forString(reportAddress) },
  { schema: 'dns.dmarc.adkim', at: ['dns', 'dmarc', 'adkim'], values: forValue(enumOf('r', 's', 'x')) },
  { schema: 'dns.dmarc.aspf', at: ['dns', 'dmarc', 'aspf'], values: forValue(enumOf('r', 's', 'x')) },
  { schema: 'dns.dmarc.percent', at: ['dns', 'dmarc', 'percent'], values: forValue(fc.integer({ min: -1, max: 101 })) },
  { schema: 'dns.mtaSts', at: ['dns', 'mtaSts'], values: forValue(bool) },
  { schema: 'dns.mtaSts.mode', at: ['dns', 'mtaSts', 'mode'], values: forValue(enumOf('testing', 'enforce', 'none', 'strict')) },
  { schema: 'dns.mtaSts.maxAgeSeconds', at: ['dns', 'mtaSts', 'maxAgeSeconds'], values: forValue(fc.oneof(fc.integer({ min: 86399, max: 31557601 }), count)) },
  { schema: 'dns.tlsRpt', at: ['dns', 'tlsRpt'], values: forValue(bool) },
  { schema: 'dns.tlsRpt.rua', at: ['dns', 'tlsRpt', 'rua'], values: forString(reportAddress) },
  // Whole sections replaced: junk in place of a mapping, or a mapping of junk.
  ...['relay', 'relay.smarthost', 'limits', 'ports', 'tls', 'docker', 'dkim', 'dns', 'dns.rfc2136', 'aliases', 'mailboxes', 'mailboxes.0'].map(
    (section): Field => ({
      schema: '(section)',
      at: section.split('.').map((s) => (/^\d+$/.test(s) ? Number(s) : s)),
      values: forValue(fc.constant({})),
      cross: [...DIRECTORY, CROSS.needsHostNetwork, CROSS.providerSection],
    }),
  ),
];

interface Change {
  readonly field: Field;
  /** The key paths that name the changed value (an alias key: as written and lowercased). */
  readonly paths: readonly string[];
  readonly parents: readonly string[];
}

/** Puts `value` at the field's place in `doc` (in place). */
function apply(doc: Doc, field: Field, value: unknown): Change {
  const segs = field.at;
  let parent: Record<string | number, unknown> = doc;
  for (const s of segs.slice(0, -1)) parent = parent[typeof s === 'object' ? s.key : s] as Record<string | number, unknown>;
  const last = segs[segs.length - 1];
  let at = segs;
  if (field.renamesKey && typeof last === 'object') {
    // Keep the order of the map: rename in place.
    const key = String(value);
    const entries = Object.entries(parent).map(([k, v]): [string, unknown] => (k === last.key ? [key, v] : [k, v]));
    for (const k of Object.keys(parent)) delete parent[k];
    for (const [k, v] of entries) Object.defineProperty(parent, k, { value: v, enumerable: true, writable: true, configurable: true });
    at = [...segs.slice(0, -1), { key }];
  } else {
    const key = typeof last === 'object' ? last.key : last;
    Object.defineProperty(parent, key, { value, enumerable: true, writable: true, configurable: true });
  }
  field.also?.(doc, value);
  const path = keyPath(at);
  const paths = field.renamesKey ? [path, keyPath([...at.slice(0, -1), { key: String(value).toLowerCase() }])] : [path];
  const parents = at.slice(0, -1).map((_, i) => keyPath(at.slice(0, i + 1)));
  return { field, paths, parents };
}

/** Whether a problem is one a change explains: its own key path, a child of it, a parent's own problem, or a listed cross-entry check. */
function explains(change: Change, problem: string): boolean {
  if (change.paths.some((p) => problem.startsWith(`${p}: `) || problem.startsWith(`${p}.`) || problem.startsWith(`${p}[`))) return true;
  if (change.parents.some((p) => problem.startsWith(`${p}: `))) return true;
  return (change.field.cross ?? []).some((re) => re.test(problem));
}

const toYaml = (doc: Doc) => yaml.dump(doc, { lineWidth: -1, noRefs: true });

type Outcome = { config: MailstackConfig } | { problems: readonly string[] };

/** The loader's answer; anything but a ConfigError propagates and fails the property. */
function load(text: string): Outcome {
  try {
    return { config: parseConfig(text, options()) };
  } catch (err) {
    if (err instanceof ConfigError) return { problems: err.problems };
    throw err;
  }
}

// ---------------------------------------------------------------------------
// What an accepted config must synthesize to
// ---------------------------------------------------------------------------

function synth(config: MailstackConfig): TerraformJson {
  const stack = new MailStack(Testing.app(), config.docker.namePrefix, config);
  return JSON.parse(Testing.synth(stack)) as TerraformJson;
}

function uploads(json: TerraformJson, service: 'postfix' | 'dovecot' | 'opendkim'): Record<string, UploadedFile> {
  const hasContainer = Object.values(json.resource.docker_container ?? {}).some((c) =>
    (c.labels as { label: string; value: string }[]).some((l) => l.label === 'org.mailstack.service' && l.value === service),
  );
  return hasContainer ? uploadsOf(json, service) : {};
}

/** The daemon files of the base config: what every setting not derived from the config must stay. */
let reference: { mainCf: Map<string, string>; dovecotConf: string[] };
beforeAll(() => {
  const outcome = load(toYaml(MAIN));
  if (!('config' in outcome)) throw new Error(`the base config is refused:\n${outcome.problems.join('\n')}`);
  const json = synth(outcome.config);
  reference = { mainCf: mainCfParameters(uploadsOf(json, 'postfix')['/etc/postfix/main.cf'].text!), dovecotConf: uploadsOf(json, 'dovecot')['/etc/dovecot/dovecot.conf'].text!.split('\n') };
});

const fail = (message: string): never => {
  throw new Error(message);
};
const lines = (text: string) => text.replace(/\n$/, '').split('\n');
const sortedList = (items: Iterable<string>) => [...items].sort();
const same = (what: string, actual: unknown, expected: unknown) => {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) fail(`${what}: ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
};

/** main.cf as parameters; each line a comment or `key = value`, no continuation lines, no key twice. */
function mainCfParameters(text: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const line of lines(text)) {
    if (line.startsWith('#')) continue;
    const m = /^([A-Za-z0-9][A-Za-z0-9_]*) =(?: (\S.*))?$/.exec(line) ?? fail(`main.cf: not a "key = value" line: ${JSON.stringify(line)}`);
    if (params.has(m[1])) fail(`main.cf: ${m[1]} twice`);
    params.set(m[1], m[2] ?? '');
  }
  return params;
}

/** The main.cf parameters that come from the config, and what they must say; undefined: absent. */
function expectedMainCf(c: MailstackConfig): Record<string, string | undefined> {
  const s = c.relay.smarthost;
  return {
    myhostname: c.hostname,
    recipient_delimiter: c.recipientDelimiter,
    message_size_limit: String(c.limits.messageSizeBytes),
    mynetworks: [...(c.docker.hostNetwork ? [] : ['127.0.0.0/8', '[::1]/128']), ...c.relay.networks.map(mynetworksEntry)].join(' '),
    inet_protocols: c.docker.hostNetwork && c.ipv6 ? 'all' : 'ipv4',
    relayhost: s && (/^[a-z0-9.:-]+$/.test(s.host) ? `[${s.host}]:${s.port}` : `(smarthost host ${JSON.stringify(s.host)} is not a host name or address)`),
    smtp_tls_security_level: s && s.tls !== 'none' ? 'encrypt' : 'may',
    smtp_tls_wrappermode: s?.tls === 'implicit' ? 'yes' : undefined,
  };
}
const SMARTHOST_LOGIN = /^smtp_sasl_/;
const MILTER = /milter/;

function checkMainCf(c: MailstackConfig, text: string): void {
  const params = mainCfParameters(text);
  const expected = expectedMainCf(c);
  for (const [key, want] of Object.entries(expected)) same(`main.cf ${key}`, params.get(key), want);
  for (const [key, value] of params) {
    if (key in expected) continue;
    if (SMARTHOST_LOGIN.test(key) && !c.relay.smarthost?.username) fail(`main.cf: ${key} without a smarthost login`);
    if (MILTER.test(key) && !c.dkim.enabled) fail(`main.cf: ${key} with DKIM off`);
    // Limits from the config are numbers; everything else is as in the base config.
    if (/_limit$/.test(key) && /^(0|[1-9][0-9]{0,9})$/.test(value) && Number(value) <= 2 ** 31 - 1) continue;
    if (reference.mainCf.get(key) !== value) fail(`main.cf: ${key} = ${JSON.stringify(value)}, not as in the base config (${JSON.stringify(reference.mainCf.get(key))})`);
  }
  for (const key of reference.mainCf.keys()) {
    if (key in expected || SMARTHOST_LOGIN.test(key) || MILTER.test(key)) continue;
    if (!params.has(key)) fail(`main.cf: ${key} is missing`);
  }
  if (c.relay.smarthost?.username && !params.has('smtp_sasl_password_maps')) fail('main.cf: smarthost login without smtp_sasl_password_maps');
  if (c.dkim.enabled !== params.has('smtpd_milters')) fail('main.cf: smtpd_milters does not follow dkim.enabled');
}

/** master.cf: comments, 8-field service lines, `  -o key=value` options; the SMTP listeners are exactly those configured. */
function checkMasterCf(c: MailstackConfig, text: string): void {
  const inet: string[] = [];
  for (const line of lines(text)) {
    if (line.startsWith('#')) continue;
    if (/^ {2}-o [a-z_]+=\S+$/.test(line)) continue;
    const m = /^(\S+) +(inet|unix|unix-dgram) +[-ny] +[-ny] +[-ny] +(-|\d+\??) +(-|\d+) +[a-z-]+$/.exec(line) ?? fail(`master.cf: not a service or option line: ${JSON.stringify(line)}`);
    if (m[2] === 'inet') inet.push(m[1]);
  }
  const bind = c.docker.bindAddress;
  if (!/^[0-9a-f:.]+$/.test(bind)) fail(`docker.bindAddress ${JSON.stringify(bind)} is not an address postfix or Docker can listen on`);
  const at = (p: number) => (!c.docker.hostNetwork || bind === '0.0.0.0' ? String(p) : bind.includes(':') ? `[${bind}]:${p}` : `${bind}:${p}`);
  const smtpListeners = c.docker.hostNetwork
    ? (['smtp', 'submission', 'submissions'] as const).flatMap((s) => (c.ports[s] === undefined ? [] : [at(c.ports[s]!)]))
    : ['smtp', 'submission', 'submissions'];
  same('master.cf inet listeners', sortedList(inet), sortedList([...smtpListeners, ...c.extraSmtpPorts.map(at)]));
}

/** A postfix map: `key value` lines (texthash), keys unique. */
function mapEntries(name: string, text: string): Map<string, string> {
  const entries = new Map<string, string>();
  for (const line of lines(text)) {
    if (line.startsWith('#')) continue;
    const m = /^(\S+) (\S.*)$/.exec(line) ?? fail(`${name}: not a "key value" line: ${JSON.stringify(line)}`);
    if (entries.has(m[1])) fail(`${name}: ${m[1]} twice`);
    entries.set(m[1], m[2]);
  }
  return entries;
}

function checkPostfixMaps(c: MailstackConfig, files: Record<string, UploadedFile>): void {
  const domains = mapEntries('virtual_mailbox_domains', files['/etc/postfix/directory/virtual_mailbox_domains'].text!);
  same('virtual_mailbox_domains', sortedList(domains.keys()), sortedList(c.domains));
  if ([...domains.values()].some((v) => v !== 'OK')) fail('virtual_mailbox_domains: a value other than OK');
  const mailboxes = mapEntries('virtual_mailbox_maps', files['/etc/postfix/directory/virtual_mailbox_maps'].text!);
  same('virtual_mailbox_maps', sortedList(mailboxes.keys()), sortedList(c.mailboxes.map((m) => m.address)));
  const aliases = mapEntries('virtual_alias_maps', files['/etc/postfix/directory/virtual_alias_maps'].text!);
  const catchAll = new Set(Object.keys(c.aliases).filter((a) => a.startsWith('@')).map((a) => a.slice(1)));
  const selfMapped = c.mailboxes.map((m) => m.address).filter((a) => catchAll.has(domainOf(a)) && !(a in c.aliases));
  same('virtual_alias_maps keys', sortedList(aliases.keys()), sortedList([...Object.keys(c.aliases), ...selfMapped]));
  for (const [key, value] of aliases) same(`virtual_alias_maps ${key}`, value.split(', ').sort(), sortedList(c.aliases[key] ?? [key]));
  const sasl = files['/etc/postfix/sasl_passwords'];
  if (Boolean(sasl) !== Boolean(c.relay.smarthost?.username)) fail('sasl_passwords does not follow relay.smarthost.username');
  if (sasl) {
    // `[host]:port user:${var.smarthost_password}\n`: the only reference is the password variable.
    const t = parseTemplate(sasl.content);
    const s = c.relay.smarthost!;
    same('sasl_passwords', t, { kind: 'template', parts: [{ kind: 'literal', value: `[${s.host}]:${s.port} ${s.username}:` }, { kind: 'reference', path: ['var', 'smarthost_password'] }, { kind: 'literal', value: '\n' }] });
  }
}

/** dovecot.conf: the base config's lines, but for the few that carry config values. */
function checkDovecotConf(c: MailstackConfig, text: string): void {
  const got = text.split('\n');
  same('dovecot.conf line count', got.length, reference.dovecotConf.length);
  const on = (s: string) => c.protocols.includes(s as never);
  const protocols = [...(on('imap') || on('imaps') ? ['imap'] : []), ...(on('pop3') || on('pop3s') ? ['pop3'] : []), 'lmtp'].join(' ');
  got.forEach((line, i) => {
    if (line === reference.dovecotConf[i]) return;
    const m = /^( *)([a-z_]+) = (.*)$/.exec(line) ?? fail(`dovecot.conf line ${i + 1}: ${JSON.stringify(line)} instead of ${JSON.stringify(reference.dovecotConf[i])}`);
    const [, , key, value] = m;
    if (!reference.dovecotConf[i].startsWith(`${m[1]}${key} = `)) fail(`dovecot.conf line ${i + 1}: ${JSON.stringify(line)} instead of ${JSON.stringify(reference.dovecotConf[i])}`);
    const expected: Record<string, string | undefined> = {
      hostname: c.hostname,
      recipient_delimiter: c.recipientDelimiter,
      postmaster_address: `postmaster@${c.domains[0]}`,
      protocols,
      port: ['0', '110', '143', '993', '995'].includes(value) ? value : undefined,
    };
    same(`dovecot.conf ${key}`, value, expected[key] ?? '(not a setting taken from the config)');
  });
}

/** The passwd-file: one line per mailbox, user:hash:uid:gid:gecos:home:shell:extra, only the quota as extra field. */
function checkPasswdFile(c: MailstackConfig, text: string): void {
  const got = lines(text);
  same('passwd-file users', got.map((l) => l.split(':')[0]), sortedList(c.mailboxes.map((m) => m.address)));
  for (const line of got) {
    const fields = line.split(':');
    const mailbox = c.mailboxes.find((m) => m.address === fields[0])!;
    const extra = fields.slice(7).join(':');
    same(`passwd-file fields of ${mailbox.address}`, fields.slice(0, 7), [mailbox.address, mailbox.passwordHash, '', '', '', '', '']);
    same(`passwd-file extra fields of ${mailbox.address}`, extra, mailbox.quotaBytes > 0 ? `userdb_quota_rule=*:bytes=${mailbox.quotaBytes}` : '');
    if (!/^(userdb_quota_rule=\*:bytes=[1-9][0-9]*)?$/.test(extra)) fail(`passwd-file: quota rule ${JSON.stringify(extra)} is not a byte count`);
  }
}

function checkOpendkim(c: MailstackConfig, files: Record<string, UploadedFile>): void {
  if (!c.dkim.enabled) {
    if (Object.keys(files).length > 0) fail('an opendkim container with DKIM off');
    return;
  }
  const sel = c.dkim.selector;
  const table = (name: string) => lines(files[`/etc/opendkim/${name}`].text!);
  same('KeyTable', table('KeyTable'), sortedList(c.domains).map((d) => `${sel}._domainkey.${d} ${d}:${sel}:/etc/opendkim/keys/${d}.private`));
  same('SigningTable', table('SigningTable'), sortedList(c.domains).map((d) => `*@${d} ${sel}._domainkey.${d}`));
  same('InternalHosts', table('InternalHosts'), ['127.0.0.1', '::1', ...c.relay.networks]);
  same('opendkim key files', sortedList(Object.keys(files).filter((p) => p.startsWith('/etc/opendkim/keys/'))), sortedList(c.domains.map((d) => `/etc/opendkim/keys/${d}.private`)));
}

/** Every string in the Terraform JSON is a template the applier reads, referring only to what the stack declares. */
function checkTerraform(c: MailstackConfig, json: TerraformJson & { variable?: Record<string, unknown> }): void {
  const declared = (path: string[]) =>
    (path[0] === 'var' && path[1] in (json.variable ?? {})) || (path[0] in json.resource && path[1] in json.resource[path[0]]);
  const visit = (value: unknown, where: string): void => {
    if (typeof value === 'string') {
      let expr: Expr;
      try {
        expr = parseTemplate(value);
      } catch (err) {
        return fail(`${where}: not a template the applier reads (${(err as Error).message})`);
      }
      const walk = (e: Expr): void => {
        if (e.kind === 'reference' && !declared(e.path)) fail(`${where}: refers to ${e.path.join('.')}, which the stack does not declare`);
        if (e.kind === 'template') e.parts.forEach(walk);
        if (e.kind === 'call') e.args.forEach(walk);
      };
      walk(expr);
    } else if (Array.isArray(value)) value.forEach((v, i) => visit(v, `${where}[${i}]`));
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) visit(v, `${where}.${k}`);
  };
  visit(json, 'cdk.tf.json');
  // Values we publish as given stay literal: the SPF record cannot carry an expression (a secret, say) into DNS.
  const txt = [
    ...Object.values(json.resource.dns_txt_record_set ?? {}).map((r) => ({ name: String(r.name ?? ''), value: (r.txt as string[])[0] })),
    ...Object.values(json.resource.cloudflare_dns_record ?? {}).filter((r) => r.type === 'TXT').map((r) => ({ name: String(r.name), value: r.content as string })),
  ];
  for (const { name, value } of txt) {
    if (name.includes('_domainkey')) continue;
    if (parseTemplate(value).kind !== 'literal') fail(`TXT record ${name}: ${JSON.stringify(value)} is an expression, not the text given`);
  }
  if (c.dns.spf && c.dns.provider !== 'none') {
    const spfs = txt.map((t) => parseTemplate(t.value)).filter((e): e is { kind: 'literal'; value: string } => e.kind === 'literal' && /^"?v=spf1/.test(String(e.value)));
    for (const e of spfs) same('SPF record', e.value.replace(/^"|"$/g, '').split('" "').join(''), c.dns.spf);
  }
  // Record names and addresses DNS can hold: 253 characters in labels of 63 at most, addresses without a %zone.
  const records = [
    ...Object.entries(json.resource)
      .filter(([type]) => type.startsWith('dns_') && type.endsWith('_record_set'))
      .flatMap(([type, rs]) => Object.values(rs).map((r) => ({ type, fqdn: [r.name, String(r.zone).replace(/\.$/, '')].filter(Boolean).join('.'), addresses: (r.addresses ?? []) as string[] }))),
    ...Object.values(json.resource.cloudflare_dns_record ?? {}).map((r) => ({ type: String(r.type), fqdn: String(r.name), addresses: ['A', 'AAAA'].includes(String(r.type)) ? [String(r.content)] : [] })),
  ];
  for (const r of records) {
    if (r.fqdn.length > 253 || r.fqdn.split('.').some((l) => l.length === 0 || l.length > 63)) fail(`DNS ${r.type} record name ${JSON.stringify(r.fqdn)} is not a DNS name (${r.fqdn.length} characters)`);
    for (const a of r.addresses) if (!/^[0-9a-fA-F:.]+$/.test(a)) fail(`DNS ${r.type} record ${r.fqdn}: ${JSON.stringify(a)} is not an address DNS can hold`);
  }
  // The provider block says what the config says, nothing more.
  const docker = (json.provider?.docker as Record<string, unknown>[])[0];
  same('docker provider host', docker.host, c.docker.host);
  same('docker provider ssh_opts', docker.ssh_opts, c.docker.sshOptions);
  if (c.docker.tls) {
    same('docker provider ca_material', parseTemplate(docker.ca_material as string), { kind: 'call', name: 'file', args: [{ kind: 'literal', value: c.docker.tls.caFile }] });
  }
}

/** The files of an accepted config: nothing in them but what the config means. */
function checkStack(c: MailstackConfig): void {
  const json = synth(c);
  const postfix = uploads(json, 'postfix');
  const dovecot = uploads(json, 'dovecot');
  const opendkim = uploads(json, 'opendkim');
  for (const [path, f] of Object.entries({ ...postfix, ...dovecot, ...opendkim })) {
    // Printable ASCII and newlines only: no CR, NUL, tab or unicode line separator could have come in.
    if (f.text !== undefined && !/^[\x20-\x7e\n]*$/.test(f.text)) fail(`${path}: a character outside printable ASCII: ${JSON.stringify(f.text.match(/[^\x20-\x7e\n]/)![0])}`);
  }
  checkMainCf(c, postfix['/etc/postfix/main.cf'].text!);
  checkMasterCf(c, postfix['/etc/postfix/master.cf'].text!);
  checkPostfixMaps(c, postfix);
  checkDovecotConf(c, dovecot['/etc/dovecot/dovecot.conf'].text!);
  checkPasswdFile(c, dovecot['/etc/dovecot/directory/users'].text!);
  checkOpendkim(c, opendkim);
  // A certificate the operator brings is read by Terraform from exactly the configured file.
  if (c.tls.certFile) same('certificate upload', parseTemplate(postfix['/etc/mailstack/tls/fullchain.pem'].content), { kind: 'call', name: 'file', args: [{ kind: 'literal', value: c.tls.certFile }] });
  checkTerraform(c, json);
}

const checked = new Set<string>();
/** Synthesizes and checks a config once (many runs end in the same config). */
function checkStackOnce(c: MailstackConfig): void {
  const key = JSON.stringify(c);
  if (checked.has(key)) return;
  checkStack(c);
  checked.add(key);
}

/** The property: a clear refusal naming the change, or a stack whose files carry nothing injected. */
function loadsCleanly(text: string, changes: readonly Change[]): void {
  const outcome = load(text);
  if ('problems' in outcome) {
    if (outcome.problems.length === 0) fail('a ConfigError without problems');
    for (const p of outcome.problems) {
      // eslint-disable-next-line no-control-regex
      if (/[\x00-\x1f\x7f]/.test(p)) fail(`a problem spanning lines or with a control character: ${JSON.stringify(p)}`);
      if (!changes.some((c) => explains(c, p))) fail(`problem not about ${changes.map((c) => c.paths[0]).join(', ')}: ${p}`);
    }
    return;
  }
  checkStackOnce(outcome.config);
}

// ---------------------------------------------------------------------------
// The properties
// ---------------------------------------------------------------------------

describe('the base configs', () => {
  it.each(Object.keys(VARIANTS))('%s is accepted and synthesizes to clean daemon files', (variant) => {
    const outcome = load(toYaml(VARIANTS[variant as Variant]));
    if ('problems' in outcome) throw new Error(outcome.problems.join('\n'));
    checkStack(outcome.config);
  });

  it('fuzz every field of the schema', () => {
    const leaves: string[] = [];
    const walk = (node: Record<string, unknown>, path: string): void => {
      let leaf = true;
      for (const branch of (node.oneOf as Record<string, unknown>[]) ?? []) if (branch.properties) walk(branch, path);
      if (node.properties) {
        leaf = false;
        for (const [k, v] of Object.entries(node.properties as Record<string, Record<string, unknown>>)) walk(v, path ? `${path}.${k}` : k);
      }
      if (node.additionalProperties && typeof node.additionalProperties === 'object') {
        leaf = false;
        leaves.push(`${path}{}`);
        walk(node.additionalProperties as Record<string, unknown>, `${path}{}`);
      }
      if (node.items) {
        leaf = false;
        walk(node.items as Record<string, unknown>, `${path}[]`);
      }
      if (leaf || node.oneOf) leaves.push(path);
    };
    walk(schema as unknown as Record<string, unknown>, '');
    const fuzzed = new Set(FIELDS.map((f) => f.schema));
    expect([...new Set(leaves)].filter((l) => !fuzzed.has(l) && !(l.endsWith('{}') && fuzzed.has(`${l}[]`)))).toEqual([]);
  });
});

describe('one field replaced by an arbitrary value', () => {
  it.each(FIELDS.map((f) => [`${keyPath(f.at)}${f.variant ? ` (${f.variant})` : ''}${f.renamesKey ? ' (key)' : ''}`, f] as const))(
    '%s: a ConfigError naming it, or clean daemon files',
    (_, field) => {
      fc.assert(
        fc.property(field.values, (value) => {
          const doc = clone(VARIANTS[field.variant ?? 'main']);
          const change = apply(doc, field, value);
          loadsCleanly(toYaml(doc), [change]);
        }),
        { numRuns: runs(16) },
      );
    },
  );
});

describe('several fields replaced at once', () => {
  const candidates = FIELDS.filter((f) => !f.variant && !f.renamesKey && f.schema !== '(section)');
  const within = (a: Field, b: Field) => a.at.every((s, i) => JSON.stringify(s) === JSON.stringify(b.at[i]));
  /** Fields of which none is inside another (dns.dmarc and dns.dmarc.policy would overwrite each other). */
  const disjoint = fc
    .uniqueArray(fc.integer({ min: 0, max: candidates.length - 1 }), { minLength: 2, maxLength: 4 })
    .map((picks) => picks.map((i) => candidates[i]).filter((f, i, all) => !all.some((g, j) => j !== i && (within(f, g) || within(g, f)))))
    .filter((fields) => fields.length >= 2);
  it('gives problems each naming one of the changes, or clean daemon files', () => {
    fc.assert(
      fc.property(
        disjoint.chain((fields) => fc.tuple(...fields.map((f) => f.values.map((v) => [f, v] as const)))),
        (mutations) => {
          const doc = clone(MAIN);
          const changes = mutations.map(([field, value]) => apply(doc, field, value));
          loadsCleanly(toYaml(doc), changes);
        },
      ),
      { numRuns: runs(150) },
    );
  });
});

describe('raw text spliced into the YAML', () => {
  // The value is put into the YAML text as typed, not escaped: it may break
  // the YAML, add keys, or be read as another type. Only "not valid YAML" may
  // lack a key path (it names line and column instead).
  const MARKER = 'MARKERVALUE';
  const spots = FIELDS.filter((f) => !f.variant && !f.renamesKey && f.schema !== '(section)' && typeof getAt(MAIN, f.at) === 'string');
  const KEY_PATH = /^(\(top level\)|[A-Za-z_$][\w$]*|\[".*?"\])(\.[A-Za-z_$][\w$]*|\[\d+\]|\[".*?"\])*: /;
  it('is refused with "not valid YAML" or key-path problems, or gives clean daemon files', () => {
    fc.assert(
      fc.property(fc.constantFrom(...spots), fc.oneof(syntaxString, junkString), fc.constantFrom('plain', 'double', 'single'), (field, raw, style) => {
        const doc = clone(MAIN);
        apply(doc, field, MARKER);
        const quoted = style === 'double' ? `"${raw}"` : style === 'single' ? `'${raw}'` : raw;
        const text = toYaml(doc).replace(MARKER, () => quoted);
        const outcome = load(text);
        if ('config' in outcome) return checkStackOnce(outcome.config);
        for (const p of outcome.problems) {
          if (p.startsWith('not valid YAML: ')) {
            if (!/\(\d+:\d+\)/.test(p)) fail(`a YAML error without line and column: ${p}`);
          } else if (!KEY_PATH.test(p) || /[\x00-\x1f\x7f]/.test(p)) fail(`a problem without a key path: ${JSON.stringify(p)}`);
        }
      }),
      { numRuns: runs(150) },
    );
  });
});

function getAt(doc: Doc, segs: readonly Seg[]): unknown {
  return segs.reduce<unknown>((v, s) => (v as Record<string | number, unknown>)?.[typeof s === 'object' ? s.key : s], doc);
}

// ---------------------------------------------------------------------------
// Regressions: what the properties found, as examples
// ---------------------------------------------------------------------------

describe('found by the properties', () => {
  const problemsOf = (doc: Doc, opts: LoadOptions = {}): readonly string[] => {
    const outcome = (() => {
      try {
        return { config: parseConfig(toYaml(doc), { ...options(), ...opts }) };
      } catch (err) {
        if (err instanceof ConfigError) return { problems: err.problems };
        throw err;
      }
    })();
    if ('config' in outcome) throw new Error(`expected a ConfigError, but this config was accepted:\n${toYaml(doc)}`);
    return outcome.problems;
  };
  const withDoc = (change: (doc: Doc) => void, base: Doc = MAIN) => {
    const doc = clone(base);
    change(doc);
    return doc;
  };

  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])(
    'passwordEnv %j is an unset variable, not a property of every object (was: TypeError from the password hash)',
    (name) => {
      const doc = withDoc((d) => ((d.mailboxes as Doc[])[1] = { address: 'bob@example.org', passwordEnv: name }));
      const expected = `mailboxes[1].passwordEnv: environment variable ${name} is not set`;
      expect(problemsOf(doc)).toEqual([expected]);
      // process.env, the default, inherits them too
      expect(() => parseConfig(toYaml(doc), { baseDir })).toThrow(expected);
    },
  );

  it.each(['v=spf1 a:${var.smarthost_password} -all', 'v=spf1 exists:%{i}._spf.%{d} -all'])(
    'dns.spf %j is taken: published literally, out of reach of Terraform syntax (test/unit/dns-synth)',
    (spf) => {
      expect(parseConfig(toYaml(withDoc((d) => ((d.dns as Doc).spf = spf))), { baseDir }).dns.spf).toBe(spf);
    },
  );

  it.each([
    ['mailboxes[0].quotaBytes', (d: Doc) => ((d.mailboxes as Doc[])[0].quotaBytes = 1e21), 'must be <= 9007199254740991'],
    ['limits.mailboxSizeBytes', (d: Doc) => ((d.limits as Doc).mailboxSizeBytes = 2 ** 53 + 2), 'must be <= 9007199254740991'],
    ['limits.clientConnectionsPerMinute', (d: Doc) => ((d.limits as Doc).clientConnectionsPerMinute = 2 ** 31), 'must be <= 2147483647'],
    ['limits.clientAuthAttemptsPerMinute', (d: Doc) => ((d.limits as Doc).clientAuthAttemptsPerMinute = 1e21), 'must be <= 2147483647'],
    ['dns.ttl', (d: Doc) => ((d.dns as Doc).ttl = 2 ** 31), 'must be <= 2147483647'],
  ])('%s beyond what the daemon parses is refused (was: "1e+21" in the passwd-file or main.cf)', (path, change, message) => {
    expect(problemsOf(withDoc(change))).toEqual([`${path}: ${message}`]);
  });

  it('accepts the largest quota, written out in digits', () => {
    const config = parseConfig(toYaml(withDoc((d) => ((d.mailboxes as Doc[])[0].quotaBytes = 2 ** 53 - 1))), options());
    expect(config.mailboxes[0].quotaBytes).toBe(9007199254740991);
  });

  it('refuses the host network without a port postfix is checked on (was: an exception from the Postfix construct at synth)', () => {
    const doc = withDoc((d) => (d.ports = { submissions: 465, imaps: 993 }));
    expect(problemsOf(doc)).toEqual([
      'ports: docker.hostNetwork needs ports.smtp, ports.submission or ports.extraSmtp (postfix listens on the host ports itself, and its health check connects to one of these)',
    ]);
    expect(parseConfig(toYaml(withDoc((d) => (d.ports = { extraSmtp: [10025] }))), options()).extraSmtpPorts).toEqual([10025]);
  });

  it.each([
    ['docker.bindAddress', (d: Doc) => ((d.docker as Doc).bindAddress = 'fe80::1%eth0'), 'is not an IPv4 or IPv6 address'],
    ['dns.addresses[1]', (d: Doc) => ((d.dns as Doc).addresses = ['192.0.2.25', 'fe80::1%eth0']), 'is not an IPv4 or IPv6 address'],
    ['relay.smarthost.host', (d: Doc) => (((d.relay as Doc).smarthost as Doc).host = 'fe80::1%eth0'), 'is not a host name or IP address'],
  ])('%s with a zone index is refused (was: "fe80::1%%eth0" in master.cf, relayhost or an AAAA record)', (path, change, reason) => {
    expect(problemsOf(withDoc(change))).toEqual([`${path}: "fe80::1%eth0" ${reason}`]);
  });

  it('refuses a domain whose DNS record names would pass 253 characters (was: an invalid record name in the plan)', () => {
    const domain = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(36)}.test`; // 233 characters
    const doc = withDoc((d) => {
      (d.domains as string[]).push(domain);
      (d.aliases as Doc)[`postmaster@${domain}`] = 'alice@example.test';
    }, VARIANTS.defaultZones);
    expect(problemsOf(doc)).toEqual([
      `domains[2]: "${domain}" is too long for its DNS records: "mailstack._domainkey.${domain}" would have 254 characters (at most 253); shorten the domain or dkim.selector, or turn that record off under dns`,
    ]);
    expect(parseConfig(toYaml(withDoc((d) => ((d.dkim as Doc).selector = 's'), doc)), options()).domains).toContain(domain);
    // Without a dns section no records are asked for: the mail system takes the name.
    expect(parseConfig(toYaml(withDoc((d) => delete d.dns, doc)), options()).domains).toContain(domain);
  });

  it('writes a control character a message repeats as an escape, keeping each problem on one line', () => {
    const problems = problemsOf(withDoc((d) => ((d.domains as string[])[1] = 'example\n.org')));
    expect(problems).toContain('mailboxes[1].address: "bob@example.org" is not in any of the mail domains (example.test, example\\n.org)');
    for (const p of problems) expect(p).not.toMatch(/[\n\r]/);
  });

  it('quotes a key that is not a plain word, and user-named keys always, in shape problems', () => {
    expect(problemsOf(withDoc((d) => ((d.dns as Doc).dmarc = { 'p\nolicy': 'none' })))).toContain('dns.dmarc["p\\nolicy"]: is not a known key');
    expect(problemsOf(withDoc((d) => ((d.relay as Doc)['smart host'] = {})))).toContain('relay["smart host"]: is not a known key');
    const cloudflare = withDoc((d) => (((d.dns as Doc).cloudflare as Doc).zoneIds = { 'example.test': 0, 'example.org': ZONE_ID('b') }), VARIANTS.cloudflare);
    expect(problemsOf(cloudflare)).toContain('dns.cloudflare.zoneIds["example.test"]: must be string');
  });

  it('refuses docker.namePrefix "constructor", the stack\'s id (was: "There is already a Construct with name \'constructor\'" at synth)', () => {
    expect(problemsOf(withDoc((d) => ((d.docker as Doc).namePrefix = 'constructor')))).toEqual([
      'docker.namePrefix: "constructor" is reserved (it names the stack, and the constructs library takes "constructor" for a property of every object)',
    ]);
  });

  it('reports an invalid domain once, not again under dns.zones when the zones are the default', () => {
    const doc = withDoc((d) => {
      (d.domains as string[]).push('exa_mple.net');
      (d.aliases as Doc)['postmaster@exa_mple.net'] = 'alice@example.test';
    }, VARIANTS.defaultZones);
    expect(problemsOf(doc).filter((p) => p.includes('exa_mple.net') && !p.startsWith('aliases'))).toEqual([
      'domains[2]: "exa_mple.net" is not a valid domain name (letters, digits and hyphens in dot-separated labels, lowercase)',
    ]);
  });
});
