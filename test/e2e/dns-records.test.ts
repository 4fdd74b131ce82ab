/**
 * The applier's dns_* record sets against a real authoritative BIND 9
 * (test/support/bind.ts): stacks written as Terraform JSON, as cdktf
 * synthesizes them for the hashicorp/dns provider, applied as TSIG-signed
 * dynamic updates, read back with queries that use none of the applier's code,
 * re-applied, changed, damaged behind the applier's back and destroyed.
 *
 * Every BIND started here is a `mailstack-test-bind-<random>` container,
 * removed in afterAll whatever happened.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyStack, ApplyResult, destroyStack, loadStack } from '../../applier/apply';
import { BindServer, startBind, TsigAlgorithm } from '../support/bind';

jest.setTimeout(120_000);

const ZONE = 'example.test.';
/** A DKIM-like TXT value of 400 bytes: more than one character-string. */
const DKIM = `v=DKIM1; k=rsa; p=${randomBytes(300).toString('base64')}`.slice(0, 400);
const SPF = 'v=spf1 mx -all';

let bind: BindServer;
let work: string;
const started: BindServer[] = [];
let logLines: string[] = [];
const log = (line: string) => logLines.push(line);
const savedEnv: Record<string, string | undefined> = {};

beforeAll(async () => {
  // The provider reads DNS_UPDATE_*: none from the environment running the tests may leak in.
  for (const key of Object.keys(process.env).filter((k) => k.startsWith('DNS_UPDATE_'))) {
    savedEnv[key] = process.env[key];
    delete process.env[key];
  }
  work = mkdtempSync(join(tmpdir(), 'dns-records-'));
  bind = await startBind({ zones: ['example.test'] });
  started.push(bind);
});

afterAll(async () => {
  for (const b of started) await b.stop();
  if (work) rmSync(work, { recursive: true, force: true });
  Object.assign(process.env, savedEnv);
});

/** A stack in its own directory with its own state file. */
function files(name: string) {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  return { file: join(dir, 'cdk.tf.json'), stateFile: join(dir, 'state', 'applier.tfstate.json') };
}

async function apply(json: unknown, name = 'main'): Promise<ApplyResult> {
  const f = files(name);
  writeFileSync(f.file, JSON.stringify(json, null, 2));
  logLines = [];
  return applyStack(loadStack(f.file), { stateFile: f.stateFile, log });
}

async function destroy(json: unknown, name = 'main') {
  const f = files(name);
  writeFileSync(f.file, JSON.stringify(json, null, 2));
  logLines = [];
  return destroyStack(loadStack(f.file), { stateFile: f.stateFile, log });
}

const actions = (result: ApplyResult) => Object.fromEntries(result.plan.map((p) => [p.resource.address, p.action]));

/** The provider block as cdktf writes it for `new DnsProvider(stack, 'Dns', { update: [{ ... }] })`. */
function provider(server: BindServer, update: Record<string, unknown> = {}) {
  return { dns: [{ update: [{ server: server.host, port: server.port, key_name: server.keyName, key_algorithm: server.keyAlgorithm, key_secret: server.keySecret, ...update }] }] };
}

/**
 * Every record type the applier implements, with what a mail domain publishes.
 * BIND refuses (REFUSED, check-integrity) an MX or SRV whose target is in the
 * zone but has no A/AAAA yet: mail.example.test's A set is applied before them
 * (the applier orders by address when nothing references anything), and the
 * backup exchange is outside the zone.
 */
function mailStack(o: { spf?: string; update?: Record<string, unknown> } = {}) {
  return {
    '//': { metadata: { version: '0.21.0', stackName: 'dns-records-test' } },
    terraform: { required_providers: { dns: { source: 'hashicorp/dns', version: '3.4.3' } } },
    provider: provider(bind, o.update),
    resource: {
      dns_a_record_set: { mail: { zone: ZONE, name: 'mail', addresses: ['192.0.2.11', '192.0.2.10'], ttl: 300, provider: 'dns' } },
      dns_aaaa_record_set: { mail: { zone: ZONE, name: 'mail', addresses: ['2001:db8::10'] } },
      dns_mx_record_set: {
        apex: {
          zone: ZONE,
          mx: [
            { preference: 10, exchange: 'mail.example.test.' },
            { preference: 20, exchange: 'backup.example.net.' },
          ],
        },
      },
      dns_txt_record_set: {
        spf: { zone: ZONE, txt: [o.spf ?? SPF], ttl: 600 },
        dkim: { zone: ZONE, name: 'mail._domainkey', txt: [DKIM] },
        dmarc: { zone: ZONE, name: '_dmarc', txt: ['v=DMARC1; p=reject', 'second record'] },
      },
      dns_srv_record_set: {
        submission: { zone: ZONE, name: '_submission._tcp', srv: [{ priority: 0, weight: 1, port: 587, target: 'mail.example.test.' }] },
        // RFC 6186: "." as the target says the service is not offered.
        pop3: { zone: ZONE, name: '_pop3._tcp', srv: [{ priority: 0, weight: 0, port: 0, target: '.' }] },
      },
      dns_cname_record: { webmail: { zone: ZONE, name: 'webmail', cname: 'mail.example.test.', ttl: 120 } },
    },
  };
}

const ADDRESSES = [
  'dns_a_record_set.mail',
  'dns_aaaa_record_set.mail',
  'dns_cname_record.webmail',
  'dns_mx_record_set.apex',
  'dns_srv_record_set.pop3',
  'dns_srv_record_set.submission',
  'dns_txt_record_set.dkim',
  'dns_txt_record_set.dmarc',
  'dns_txt_record_set.spf',
];

const txtOf = async (name: string, server = bind) => (await server.query(name, 'TXT')).map((r) => (r.data as Buffer[]).map(String));

describe('record sets applied, re-applied, changed, damaged and destroyed', () => {
  let first: ApplyResult;

  it('creates every record set, its id the fully qualified name', async () => {
    first = await apply(mailStack());
    expect(first.plan.map((p) => `${p.resource.address}:${p.action}`)).toEqual(ADDRESSES.map((a) => `${a}:create`));
    expect(logLines).toContain('+ create  dns_txt_record_set.dkim (mail._domainkey.example.test. TXT)');
    expect(logLines).toContain(`Applied: ${ADDRESSES.length} of ${ADDRESSES.length} resources created or replaced.`);
    expect(first.outputs['dns_mx_record_set.apex']).toEqual({
      id: 'example.test.',
      zone: ZONE,
      ttl: 3600,
      mx: [
        { preference: 10, exchange: 'mail.example.test.' },
        { preference: 20, exchange: 'backup.example.net.' },
      ],
    });
    expect(first.outputs['dns_txt_record_set.dkim']).toMatchObject({ id: 'mail._domainkey.example.test.', name: 'mail._domainkey', txt: [DKIM] });
    expect(first.outputs['dns_cname_record.webmail']).toEqual({ id: 'webmail.example.test.', zone: ZONE, name: 'webmail', ttl: 120, cname: 'mail.example.test.' });
  });

  it('A and AAAA: the addresses, with their TTL', async () => {
    const a = await bind.query('mail.example.test', 'A');
    expect(a.map((r) => r.data).sort()).toEqual(['192.0.2.10', '192.0.2.11']);
    expect(a.map((r) => r.ttl)).toEqual([300, 300]);
    expect(await bind.query('mail.example.test', 'AAAA')).toEqual([expect.objectContaining({ data: '2001:db8::10', ttl: 3600 })]);
  });

  it('MX at the apex: preference and exchange of each', async () => {
    const mx = (await bind.query('example.test', 'MX')).map((r) => r.data as { preference: number; exchange: string });
    expect(mx.sort((x, y) => x.preference - y.preference)).toEqual([
      { preference: 10, exchange: 'mail.example.test' },
      { preference: 20, exchange: 'backup.example.net' },
    ]);
  });

  it('TXT: one record per value; the 400-byte DKIM key is one record of a 255- and a 145-byte string', async () => {
    expect(await txtOf('example.test')).toEqual([[SPF]]);
    const dkim = await bind.query('mail._domainkey.example.test', 'TXT');
    expect(dkim).toHaveLength(1);
    const strings = dkim[0].data as Buffer[];
    expect(strings.map((s) => s.length)).toEqual([255, 145]);
    expect(Buffer.concat(strings).toString()).toBe(DKIM);
    expect((await txtOf('_dmarc.example.test')).sort()).toEqual([['second record'], ['v=DMARC1; p=reject']]);
    // As BIND itself prints the zone: two quoted strings in one record.
    expect(await bind.zoneText('example.test')).toMatch(new RegExp(`^mail\\._domainkey\\.example\\.test\\.\\s+3600\\s+IN\\s+TXT\\s+"${DKIM.slice(0, 255).replace(/[+/]/g, '\\$&')}" "${DKIM.slice(255).replace(/[+/]/g, '\\$&')}"$`, 'm'));
  });

  it('SRV: priority, weight, port and target, "." included; CNAME: its target', async () => {
    expect((await bind.query('_submission._tcp.example.test', 'SRV')).map((r) => r.data)).toEqual([{ priority: 0, weight: 1, port: 587, target: 'mail.example.test' }]);
    expect((await bind.query('_pop3._tcp.example.test', 'SRV')).map((r) => r.data)).toEqual([{ priority: 0, weight: 0, port: 0, target: '.' }]);
    expect(await bind.query('webmail.example.test', 'CNAME')).toEqual([expect.objectContaining({ data: 'mail.example.test', ttl: 120 })]);
  });

  it('changes nothing on a second apply', async () => {
    const serial = (await bind.query('example.test', 'SOA'))[0].data;
    const again = await apply(mailStack());
    expect(new Set(Object.values(actions(again)))).toEqual(new Set(['keep']));
    expect(logLines).toEqual([`No changes: ${ADDRESSES.length} resources are up to date.`]);
    expect(again.outputs).toEqual(first.outputs);
    // Not one update was sent: the zone's serial has not moved.
    expect((await bind.query('example.test', 'SOA'))[0].data).toEqual(serial);
  });

  it('replaces only the TXT record set whose value changed; the old value is gone', async () => {
    const changed = await apply(mailStack({ spf: 'v=spf1 a mx -all' }));
    expect(Object.entries(actions(changed)).filter(([, a]) => a !== 'keep')).toEqual([['dns_txt_record_set.spf', 'replace']]);
    expect(changed.plan.find((p) => p.action === 'replace')?.reason).toBe('its configuration changed');
    expect(await txtOf('example.test')).toEqual([['v=spf1 a mx -all']]);
    expect(await bind.query('example.test', 'MX')).toHaveLength(2);
  });

  it('re-creates a record set deleted behind its back', async () => {
    await bind.nsupdate(['update delete _submission._tcp.example.test. SRV']);
    expect(await bind.query('_submission._tcp.example.test', 'SRV')).toEqual([]);
    const result = await apply(mailStack({ spf: 'v=spf1 a mx -all' }));
    expect(Object.entries(actions(result)).filter(([, a]) => a !== 'keep')).toEqual([['dns_srv_record_set.submission', 'replace']]);
    expect(result.plan.find((p) => p.action === 'replace')?.reason).toBe('it is gone or stopped');
    expect((await bind.query('_submission._tcp.example.test', 'SRV')).map((r) => r.data)).toEqual([{ priority: 0, weight: 1, port: 587, target: 'mail.example.test' }]);
  });

  it('puts back a record set changed behind its back: exactly the declared records again', async () => {
    await bind.nsupdate(['update add mail.example.test. 300 A 192.0.2.99', 'update delete _dmarc.example.test. TXT "second record"']);
    const result = await apply(mailStack({ spf: 'v=spf1 a mx -all' }));
    expect(Object.entries(actions(result)).filter(([, a]) => a !== 'keep').sort()).toEqual([
      ['dns_a_record_set.mail', 'replace'],
      ['dns_txt_record_set.dmarc', 'replace'],
    ]);
    expect((await bind.query('mail.example.test', 'A')).map((r) => r.data).sort()).toEqual(['192.0.2.10', '192.0.2.11']);
    expect((await txtOf('_dmarc.example.test')).sort()).toEqual([['second record'], ['v=DMARC1; p=reject']]);
  });

  it('over TCP as well (transport = "tcp"), keeping everything', async () => {
    const result = await apply(mailStack({ spf: 'v=spf1 a mx -all', update: { transport: 'tcp', timeout: '5s', retries: 1 } }));
    expect(new Set(Object.values(actions(result)))).toEqual(new Set(['keep']));
  });

  it('fails the plan, naming the record set and the server, when the secret is wrong', async () => {
    const wrong = mailStack({ spf: 'v=spf1 a mx -all', update: { key_secret: randomBytes(32).toString('base64') } });
    // The plan reads each record set back (as the provider refreshes): the first read is refused.
    await expect(apply(wrong)).rejects.toThrow(`mail.example.test. A: the query at 127.0.0.1:${bind.port} failed: the server answered NOTAUTH (TSIG error BADSIG)`);
    expect(logLines).toEqual([]);
  });

  it('destroys every record set', async () => {
    const { removed } = await destroy(mailStack({ spf: 'v=spf1 a mx -all' }));
    expect([...removed].sort()).toEqual(ADDRESSES);
    for (const [name, type] of [
      ['mail.example.test', 'A'],
      ['mail.example.test', 'AAAA'],
      ['example.test', 'MX'],
      ['example.test', 'TXT'],
      ['mail._domainkey.example.test', 'TXT'],
      ['_dmarc.example.test', 'TXT'],
      ['_submission._tcp.example.test', 'SRV'],
      ['_pop3._tcp.example.test', 'SRV'],
      ['webmail.example.test', 'CNAME'],
    ]) {
      expect(await bind.query(name, type)).toEqual([]);
    }
    // What is left is what the zone started with.
    const left = (await bind.zoneText('example.test')).trim().split('\n').map((l) => l.split(/\s+/).slice(0, 4).join(' '));
    expect(left).toEqual(['example.test. 300 IN SOA', 'example.test. 300 IN NS', 'ns.example.test. 300 IN A']);
  });
});

describe('refused updates', () => {
  const one = (server: BindServer, update: Record<string, unknown> = {}, zone = ZONE) => ({
    provider: provider(server, update),
    resource: { dns_txt_record_set: { probe: { zone, name: 'probe', txt: ['x'] } } },
  });

  it('a wrong secret: NOTAUTH, BADSIG, the record set and the server named; nothing written', async () => {
    const error = apply(one(bind, { key_secret: randomBytes(32).toString('base64') }), 'wrong-secret');
    await expect(error).rejects.toThrow(
      `dns_txt_record_set.probe (probe.example.test. TXT): the update at 127.0.0.1:${bind.port} failed: the server answered NOTAUTH (TSIG error BADSIG): the server could not verify the signature: the key secret is not the one it has for mailstack-test. (hmac-sha256)`,
    );
    expect(await bind.query('probe.example.test', 'TXT')).toEqual([]);
  });

  it('a key the server does not know: NOTAUTH, BADKEY', async () => {
    await expect(apply(one(bind, { key_name: 'someone-else.' }), 'wrong-key')).rejects.toThrow(/probe\.example\.test\. TXT\): the update at 127\.0\.0\.1:\d+ failed: the server answered NOTAUTH \(TSIG error BADKEY\)/);
  });

  it('a zone the server is not authoritative for: its RCODE named', async () => {
    await expect(apply(one(bind, {}, 'elsewhere.test.'), 'other-zone')).rejects.toThrow(/probe\.elsewhere\.test\. TXT\): the update at 127\.0\.0\.1:\d+ failed: the server answered (NOTAUTH|REFUSED|NOTZONE)$/);
  });

  it('no server listening: the record set and the address named', async () => {
    const gone = { ...bind, port: 9 } as BindServer;
    await expect(apply(one(gone, { transport: 'tcp', retries: 1 }), 'no-server')).rejects.toThrow(/^dns_txt_record_set\.probe \(probe\.example\.test\. TXT\): the update at 127\.0\.0\.1:9 failed: .*ECONNREFUSED/);
  });
});

describe('the key secret from DNS_UPDATE_KEYSECRET only', () => {
  const stack = () => ({
    terraform: { required_providers: { dns: { source: 'hashicorp/dns', version: '3.4.3' } } },
    // No key_secret: the stack keeps the secret out of cdk.tf.json.
    provider: { dns: [{ update: [{ server: bind.host, port: bind.port, key_name: bind.keyName, key_algorithm: bind.keyAlgorithm }] }] },
    resource: { dns_txt_record_set: { env: { zone: ZONE, name: 'from-env', txt: ['signed with a secret from the environment'] } } },
  });
  afterEach(() => {
    delete process.env.DNS_UPDATE_KEYSECRET;
  });

  it('without it, refuses as the provider does, before sending anything', async () => {
    await expect(apply(stack(), 'env')).rejects.toThrow('dns_txt_record_set.env (from-env.example.test. TXT): dns provider: when using authentication, "key_name", "key_secret" and "key_algorithm" should be non empty');
  });

  it('with it, signs with it; the secret is in neither cdk.tf.json nor the state', async () => {
    process.env.DNS_UPDATE_KEYSECRET = bind.keySecret;
    const result = await apply(stack(), 'env');
    expect(actions(result)).toEqual({ 'dns_txt_record_set.env': 'create' });
    expect(await txtOf('from-env.example.test')).toEqual([['signed with a secret from the environment']]);
    const f = files('env');
    for (const text of [readFileSync(f.file, 'utf8'), readFileSync(f.stateFile, 'utf8')]) {
      expect(text).not.toContain(bind.keySecret);
      expect(text).not.toContain(Buffer.from(bind.keySecret, 'base64').toString('hex'));
    }
    expect(JSON.parse(readFileSync(f.file, 'utf8')).provider.dns[0].update[0]).not.toHaveProperty('key_secret');
    const { removed } = await destroy(stack(), 'env');
    expect(removed).toEqual(['dns_txt_record_set.env']);
    expect(await bind.query('from-env.example.test', 'TXT')).toEqual([]);
  });

  it('everything from the environment, as the provider reads it when the block is empty', async () => {
    Object.assign(process.env, {
      DNS_UPDATE_SERVER: bind.host,
      DNS_UPDATE_PORT: String(bind.port),
      DNS_UPDATE_KEYNAME: bind.keyName,
      DNS_UPDATE_KEYALGORITHM: bind.keyAlgorithm,
      DNS_UPDATE_KEYSECRET: bind.keySecret,
    });
    try {
      const json = { provider: { dns: [{}] }, resource: stack().resource };
      await apply(json, 'all-env');
      expect(await txtOf('from-env.example.test')).toEqual([['signed with a secret from the environment']]);
      await destroy(json, 'all-env');
      expect(await bind.query('from-env.example.test', 'TXT')).toEqual([]);
    } finally {
      for (const key of ['DNS_UPDATE_SERVER', 'DNS_UPDATE_PORT', 'DNS_UPDATE_KEYNAME', 'DNS_UPDATE_KEYALGORITHM']) delete process.env[key];
    }
  });
});

describe.each<TsigAlgorithm>(['hmac-sha512', 'hmac-sha1', 'hmac-md5'])('a key with %s', (keyAlgorithm) => {
  it('is accepted by BIND, and its answers verified', async () => {
    const server = await startBind({ zones: ['example.test'], keyName: `${keyAlgorithm}-key.`, keyAlgorithm });
    started.push(server);
    const json = {
      provider: provider(server),
      resource: { dns_a_record_set: { apex: { zone: ZONE, addresses: ['192.0.2.1'] } }, dns_txt_record_set: { long: { zone: ZONE, name: 'long', txt: [DKIM] } } },
    };
    await apply(json, `alg-${keyAlgorithm}`);
    expect((await server.query('example.test', 'A')).map((r) => r.data)).toEqual(['192.0.2.1']);
    expect((await server.query('long.example.test', 'TXT')).map((r) => (r.data as Buffer[]).map((s) => s.length))).toEqual([[255, 145]]);
    expect(new Set(Object.values(actions(await apply(json, `alg-${keyAlgorithm}`))))).toEqual(new Set(['keep']));
    await destroy(json, `alg-${keyAlgorithm}`);
    expect(await server.query('example.test', 'A')).toEqual([]);
    await server.stop();
  });
});
