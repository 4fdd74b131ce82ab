/**
 * Generated valid configs, checked by the real daemons: a batch of configs
 * with unusual but legal values (long domain names, many aliases, catch-alls,
 * IPv6 networks, odd local parts, every recipient delimiter, protocol subsets,
 * host network on and off, quotas up to the largest accepted), rendered, and
 * checked in one run of the postfix image (postconf -n, postconf -M, postfix
 * check, postmap on every map) and one of the dovecot image (doveconf -n, then
 * dovecot started on each config to read its passwd-file and quotas). No
 * errors and no warnings.
 *
 * Reproducible: a fixed seed, FC_SEED to try another.
 */
import fc from 'fast-check';
import * as yaml from 'js-yaml';
import { parseTemplate } from '../../applier/expressions';
import { parseConfig } from '../../config/load';
import { MailstackConfig } from '../../config/model';
import { TLS_CERT_FILE, TLS_KEY_FILE } from '../../render/layout';
import { ensureImage, FileToPut, runInImage } from '../support/docker';
import { synthYaml, uploadsOf } from '../support/synth';
import { selfSignedCertificate } from '../support/tls';

jest.setTimeout(10 * 60_000);

const SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : 0x6d61696c;
const COUNT = 40;

// ---------------------------------------------------------------------------
// Valid configs with unusual values
// ---------------------------------------------------------------------------

const HASHES = [
  '{SHA512-CRYPT}$6$G379Mwf3zgyfW.7A$bHUdNfm4gudV5ZWPaHUgZViATTlewopiy41tGiuPy68gRZNPvPefRN18xs761vuORcBMqvlMmrsywYZ3yKZYR0',
  '{BLF-CRYPT}$2y$05$zdrxIapkLRnF8DLMuRDSDOqvrDTbAPfOvWmP4KXThMMKUHNJ5RpJ2',
  '{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo',
];
const DELIMITERS = ['', '+', '-', '=', '_', '.'];
const READING = ['imap', 'imaps', 'pop3', 'pop3s'] as const;

const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/);
const shortDomain = fc.tuple(fc.array(label, { minLength: 1, maxLength: 3 }), fc.stringMatching(/^[a-z]{2,6}$/)).map(([ls, t]) => [...ls, t].join('.'));
/** 100 to 253 characters, in labels of up to 63. */
const longDomain = fc.tuple(fc.integer({ min: 100, max: 253 }), fc.stringMatching(/^[a-z][a-z0-9-]{61}[a-z0-9]$/)).map(([n, l]) => {
  const labels: string[] = [];
  for (let rest = n - 5; rest > 0; ) {
    // No empty label after the last dot.
    const len = Math.min(63, rest) - (rest - Math.min(63, rest) === 1 ? 1 : 0);
    labels.push(l.slice(0, len).replace(/-$/, 'a'));
    rest -= len + (rest > len ? 1 : 0);
  }
  return [...labels, 'test'].join('.');
});
const domain = fc.oneof({ weight: 3, arbitrary: shortDomain }, { weight: 1, arbitrary: longDomain }).filter((d) => d.length <= 253 && d.split('.').every((l) => /^(?!-)[a-z0-9-]{1,63}(?<!-)$/.test(l)));
/** Local parts mailstack accepts, the odd ones included: "_", "0", "a.b-c_d", 64 characters. */
const localPart = fc.oneof(
  fc.stringMatching(/^[a-z0-9_](?:[a-z0-9_-]|\.[a-z0-9_-]){0,20}$/),
  fc.constantFrom('_', '0', 'a.b-c_d', 'postmaster-', '_-', 'x.y.z', 'a'.repeat(64), `${'a.'.repeat(31)}bb`),
);
const ipv4Network = fc.tuple(fc.ipV4(), fc.integer({ min: 8, max: 32 })).map(([ip, p]) => {
  const n = ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
  const masked = p === 0 ? 0 : Math.floor(n / 2 ** (32 - p)) * 2 ** (32 - p);
  return `${[24, 16, 8, 0].map((s) => Math.floor(masked / 2 ** s) % 256).join('.')}/${p}`;
});
const ipv6Network = fc.tuple(fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }), fc.integer({ min: 16, max: 128 })).map(([groups, p]) => {
  const bits = groups.map((g, i) => {
    const keep = Math.max(0, Math.min(16, p - i * 16));
    return keep === 0 ? 0 : g & (0xffff << (16 - keep)) & 0xffff;
  });
  return `${bits.map((g) => g.toString(16)).join(':').replace(/(^|:)0(:0)+(:|$)/, '::')}/${p}`;
});
const quota = fc.constantFrom(0, 1, 1024, 1_000_000_000, 2 ** 31, 2 ** 53 - 1);

/** A valid mailstack.yaml document; `i` picks what every batch must cover (delimiters, host network). */
const validDoc = (i: number) =>
  fc
    .record({
      domains: fc.uniqueArray(domain, { minLength: 1, maxLength: 3 }),
      hostLabel: fc.constantFrom('mail', 'mx-1', 'smtp'),
      locals: fc.uniqueArray(localPart, { minLength: 1, maxLength: 6 }),
      quotas: fc.array(fc.option(quota), { minLength: 6, maxLength: 6 }),
      hashes: fc.array(fc.constantFrom(...HASHES), { minLength: 6, maxLength: 6 }),
      mailboxSizeBytes: fc.option(quota),
      extraAliases: fc.uniqueArray(localPart, { minLength: i % 4 === 1 ? 25 : 0, maxLength: 30 }),
      external: fc.array(fc.constantFrom('friend@elsewhere.test', 'ops@example.net', 'x_y@sub.elsewhere.test'), { maxLength: 2 }),
      catchAll: fc.boolean(),
      upperCaseKeys: fc.boolean(),
      protocols: fc.subarray([...READING]),
      ipv6: fc.boolean(),
      networks: fc.array(fc.oneof(ipv4Network, ipv6Network), { maxLength: 4 }),
      bindAddress: fc.constantFrom('0.0.0.0', '127.0.0.1', '::1', '::', '192.0.2.10'),
      extraSmtp: fc.uniqueArray(fc.integer({ min: 1024, max: 65535 }), { maxLength: 2 }),
      messageSizeBytes: fc.oneof(fc.constant(1024), fc.constant(2 ** 31 - 1), fc.integer({ min: 1024, max: 2 ** 31 - 1 })),
      clientLimits: fc.array(fc.oneof(fc.constant(0), fc.constant(2 ** 31 - 1), fc.nat({ max: 10000 })), { minLength: 4, maxLength: 4 }),
      dkim: fc.record({ enabled: fc.boolean(), selector: fc.oneof(label, fc.constant('a'.repeat(63))), keyBits: fc.constantFrom(1024, 2048, 3072, 4096) }),
      smarthost: fc.option(
        fc.record({
          host: fc.oneof(shortDomain, fc.ipV4(), fc.constantFrom('relay', '2001:db8::25')),
          port: fc.integer({ min: 1, max: 65535 }),
          tls: fc.constantFrom('starttls', 'implicit', 'none'),
          username: fc.option(fc.stringMatching(/^[A-Za-z0-9._@+=-]{1,40}$/)),
        }),
      ),
    })
    .map((r) => {
      const domains = r.domains;
      const hostNetwork = i % 2 === 0;
      const hostname = `${r.hostLabel}.${domains[0]}`.length <= 253 ? `${r.hostLabel}.${domains[0]}` : domains[0];
      const mailboxes = r.locals.map((l, j) => ({
        address: `${l}@${domains[j % domains.length]}`,
        passwordHash: r.hashes[j],
        ...(r.quotas[j] === null ? {} : { quotaBytes: r.quotas[j] }),
      }));
      const addresses = new Set(mailboxes.map((m) => m.address));
      const key = (k: string) => (r.upperCaseKeys ? k.toUpperCase() : k);
      const aliases: Record<string, string | string[]> = {};
      for (const d of domains) if (!addresses.has(`postmaster@${d}`)) aliases[key(`postmaster@${d}`)] = mailboxes[0].address;
      if (r.catchAll) aliases[key(`@${domains[domains.length - 1]}`)] = mailboxes[mailboxes.length - 1].address;
      r.extraAliases.forEach((l, j) => {
        const a = `${l}@${domains[j % domains.length]}`;
        if (addresses.has(a) || a in aliases || key(a) in aliases) return;
        const targets = [mailboxes[j % mailboxes.length].address, ...r.external.slice(0, j % 3)];
        aliases[key(a)] = targets.length === 1 ? targets[0] : [...new Set(targets)];
      });
      const protocols = r.protocols;
      const ports: Record<string, unknown> = { smtp: 2525, submission: 2587, submissions: 2465 };
      protocols.forEach((p, j) => (ports[p] = 2100 + j));
      const extra = r.extraSmtp.filter((p) => ![2525, 2587, 2465, 2100, 2101, 2102, 2103].includes(p));
      if (extra.length) ports.extraSmtp = extra;
      const networks = hostNetwork ? r.networks.filter((n) => r.ipv6 || !n.includes(':')) : [];
      return {
        hostname: i % 5 === 0 ? hostname.toUpperCase() : hostname,
        domains,
        mailboxes,
        aliases,
        ...(networks.length || r.smarthost ? { relay: { ...(networks.length ? { networks } : {}), ...(r.smarthost ? { smarthost: { ...r.smarthost, username: r.smarthost.username ?? undefined } } : {}) } } : {}),
        limits: {
          messageSizeBytes: r.messageSizeBytes,
          ...(r.mailboxSizeBytes === null ? {} : { mailboxSizeBytes: r.mailboxSizeBytes }),
          clientConnectionsPerMinute: r.clientLimits[0],
          clientConcurrentConnections: r.clientLimits[1],
          clientMessagesPerMinute: r.clientLimits[2],
          clientAuthAttemptsPerMinute: r.clientLimits[3],
        },
        protocols,
        ipv6: r.ipv6,
        ports,
        recipientDelimiter: DELIMITERS[i % DELIMITERS.length],
        docker: { hostNetwork, bindAddress: r.bindAddress, namePrefix: `gen${i}` },
        dkim: r.dkim,
      };
    });

const dump = (doc: unknown) => yaml.dump(JSON.parse(JSON.stringify(doc)), { lineWidth: -1 });

interface Generated {
  readonly n: number;
  readonly yaml: string;
  readonly config: MailstackConfig;
  readonly postfix: Record<string, string>;
  readonly dovecot: Record<string, string>;
}

/** The batch: every config must load (they are valid by construction) and synthesize. */
function generate(): Generated[] {
  return Array.from({ length: COUNT }, (_, n) => {
    const [doc] = fc.sample(validDoc(n), { seed: SEED + n, numRuns: 1 });
    const text = dump(doc);
    const config = parseConfig(text, { env: {} });
    const { json } = synthYaml(text, { env: {} });
    const files = (service: 'postfix' | 'dovecot') => {
      const out: Record<string, string> = {};
      for (const [path, f] of Object.entries(uploadsOf(json, service))) {
        const name = path.split('/').pop()!;
        if (f.text !== undefined) out[name] = f.text;
        else if (name === 'sasl_passwords') {
          // The password is a Terraform variable: put one in.
          const t = parseTemplate(f.content);
          out[name] = t.kind === 'template' ? t.parts.map((p) => (p.kind === 'literal' ? String(p.value) : 'pa55word')).join('') : '';
        }
      }
      return out;
    };
    return { n, yaml: text, config, postfix: files('postfix'), dovecot: files('dovecot') };
  });
}

// ---------------------------------------------------------------------------
// One container per daemon, every config in its own directory
// ---------------------------------------------------------------------------

/** Lines "OUT n ..." and "ERR n ..." of the scripts below, by config. */
function byConfig(stdout: string): Map<number, { out: string[]; err: string[] }> {
  const results = new Map<number, { out: string[]; err: string[] }>();
  for (const line of stdout.split('\n')) {
    const m = /^(OUT|ERR) (\d+) ?(.*)$/.exec(line);
    if (!m) continue;
    const r = results.get(Number(m[2])) ?? { out: [], err: [] };
    (m[1] === 'OUT' ? r.out : r.err).push(m[3]);
    results.set(Number(m[2]), r);
  }
  return results;
}

/** Each config of the batch with its OUT lines, once its ERR lines are checked to be none. */
function outputOfEach(stdout: string): { g: Generated; out: string[] }[] {
  const results = byConfig(stdout);
  return batch.map((g) => {
    const { out, err } = results.get(g.n) ?? { out: [], err: ['no output'] };
    expect({ config: g.yaml, err }).toEqual({ config: g.yaml, err: [] });
    return { g, out };
  });
}

/** `run N cmd...`: its stdout as OUT lines, its stderr and a failed exit as ERR lines. */
const RUN = `run() { n=$1; shift; "$@" >/tmp/o 2>/tmp/e; rc=$?; [ $rc -eq 0 ] || echo "ERR $n exit $rc: $*"; sed "s|^|ERR $n |" /tmp/e; sed "s|^|OUT $n |" /tmp/o; }`;

let batch: Generated[];
let cert: { certificatePem: string; privateKeyPem: string };

beforeAll(async () => {
  batch = generate();
  cert = await selfSignedCertificate('mail.example.test');
});

it('generates a batch that covers the unusual values it is meant to', () => {
  const configs = batch.map((g) => g.config);
  expect(new Set(configs.map((c) => c.recipientDelimiter))).toEqual(new Set(DELIMITERS));
  expect(new Set(configs.map((c) => c.docker.hostNetwork))).toEqual(new Set([true, false]));
  expect(configs.some((c) => c.domains.some((d) => d.length > 200))).toBe(true);
  expect(configs.some((c) => Object.keys(c.aliases).some((a) => a.startsWith('@')))).toBe(true);
  expect(configs.some((c) => Object.keys(c.aliases).length > 20)).toBe(true);
  expect(configs.some((c) => c.relay.networks.some((n) => n.includes(':')))).toBe(true);
  expect(configs.some((c) => c.mailboxes.some((m) => m.quotaBytes === 2 ** 53 - 1))).toBe(true);
  expect(configs.some((c) => c.mailboxes.some((m) => m.address.split('@')[0].length === 64))).toBe(true);
  expect(configs.some((c) => c.protocols.length === 0)).toBe(true);
  expect(configs.some((c) => c.relay.smarthost?.username)).toBe(true);
});

it('postfix reads every generated configuration without an error or a warning', async () => {
  const image = await ensureImage('postfix');
  const files: Record<string, FileToPut> = {
    [TLS_CERT_FILE]: { content: cert.certificatePem },
    [TLS_KEY_FILE]: { content: cert.privateKeyPem, mode: 0o600 },
    // postfix -c takes only directories the default main.cf lists.
    '/etc/postfix/main.cf': { content: `compatibility_level = 3.6\nalternate_config_directories = ${batch.map((g) => `/cfg/${g.n}`).join(' ')}\n` },
  };
  for (const g of batch) for (const [name, content] of Object.entries(g.postfix)) files[`/cfg/${g.n}/${name}`] = { content, mode: name === 'sasl_passwords' ? 0o600 : 0o644 };
  const script = `${RUN}
    for d in /cfg/*; do n=\${d#/cfg/}
      run $n postconf -c $d -n
      run $n postconf -c $d -M
      run $n postfix -c $d check
      for m in virtual_mailbox_domains virtual_mailbox_maps virtual_alias_maps sasl_passwords; do
        [ -e $d/$m ] && echo "OUT $n $m $(postmap -s texthash:$d/$m 2>/tmp/pe | wc -l)" && sed "s|^|ERR $n |" /tmp/pe
      done
    done`;
  const r = await runInImage(image, ['-c', script], files, ['bash']);
  expect(r.stderr).toBe('');
  // THEN nothing is refused or warned about, and postfix reads back what the config says
  for (const { g, out } of outputOfEach(r.stdout)) {
    const c = g.config;
    expect(out).toContain(`myhostname = ${c.hostname}`);
    expect(out).toContain(c.recipientDelimiter ? `recipient_delimiter = ${c.recipientDelimiter}` : 'recipient_delimiter =');
    expect(out).toContain(`virtual_mailbox_domains ${c.domains.length}`);
    expect(out).toContain(`virtual_mailbox_maps ${c.mailboxes.length}`);
    const catchAll = new Set(Object.keys(c.aliases).filter((a) => a.startsWith('@')).map((a) => a.slice(1)));
    const selfMapped = c.mailboxes.filter((m) => catchAll.has(m.address.split('@')[1])).length;
    expect(out).toContain(`virtual_alias_maps ${Object.keys(c.aliases).length + selfMapped}`);
  }
});

it('dovecot reads every generated configuration, its users and their quotas without an error or a warning', async () => {
  const image = await ensureImage('dovecot');
  const files: Record<string, FileToPut> = {
    [TLS_CERT_FILE]: { content: cert.certificatePem },
    [TLS_KEY_FILE]: { content: cert.privateKeyPem, mode: 0o600 },
  };
  for (const g of batch) for (const [name, content] of Object.entries(g.dovecot)) files[`/cfg/${g.n}/${name}`] = { content };
  // The passwd-file path is fixed in dovecot.conf: each config's goes there in turn.
  // Dovecot's own log (warnings at start included) goes to a file per config;
  // SIGKILL to everything ends it without the second that a clean stop takes.
  const script = `${RUN}
    for d in /cfg/*; do n=\${d#/cfg/}; c=$d/dovecot.conf
      run $n doveconf -c $c -n -x
      install -o root -g dovecot -m 0640 $d/users /etc/dovecot/directory/users
      rm -f /run/mailstack/sockets/*
      dovecot -c $c >/tmp/log 2>&1 || echo "ERR $n dovecot did not start"
      for i in $(seq 100); do [ -S /run/mailstack/sockets/auth ] && break; sleep 0.05; done
      run $n doveadm -c $c quota get -A
      kill -KILL -1; rm -f /run/dovecot/master.pid
      grep -E "(Warning|Error|Fatal|Panic):" /tmp/log | sed "s|^|ERR $n |"
    done`;
  const r = await runInImage(image, ['-c', script], files, ['bash']);
  expect(r.stderr).toBe('');
  for (const { g, out } of outputOfEach(r.stdout)) {
    // `quota get -A`: a line per user and quota resource (STORAGE, MESSAGE), the limit in KiB.
    const users = new Map<string, string>();
    for (const line of out) {
      const m = /^(\S+@\S+)\s+User quota\s+STORAGE\s+\d+\s+(\S+)/.exec(line);
      if (m) users.set(m[1], m[2]);
    }
    expect([...users.keys()].sort()).toEqual(g.config.mailboxes.map((m) => m.address).sort());
    for (const m of g.config.mailboxes) expect([m.address, users.get(m.address)]).toEqual([m.address, m.quotaBytes === 0 ? '-' : String(Math.ceil(m.quotaBytes / 1024))]);
  }
});
