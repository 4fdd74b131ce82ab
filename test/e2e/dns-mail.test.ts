/**
 * DNS and sender authentication end to end: a real BIND server takes the
 * stack's records as TSIG-signed RFC 2136 updates in the same `up` that
 * starts the servers; mail from an authenticated user leaves through the
 * smarthost into a sink, and mailauth, resolving against that BIND server,
 * checks DKIM, SPF and DMARC on what the sink received. The SPF record is
 * one with macros, which Terraform would otherwise read as its own syntax.
 */
import { authenticate } from 'mailauth';
import * as nodemailer from 'nodemailer';
import { docker } from '../support/docker';
import { BindServer, startBind } from '../support/bind';
import { Sink, startSink } from '../support/sink';
import { exampleStack, TestStack } from '../support/stack';

jest.setTimeout(10 * 60_000);

let bind: BindServer;
let stack: TestStack;
let sink: Sink;
const savedSecret = process.env.DNS_UPDATE_KEYSECRET;

/** mailauth's resolver, answered by the test's BIND server as dns.promises.resolve would. */
async function resolver(name: string, rr: string): Promise<string[]> {
  const records = await bind.query(name, rr);
  if (records.length === 0) throw Object.assign(new Error(`no ${rr} record for ${name}`), { code: 'ENOTFOUND' });
  // Shapes differ by type (TXT: string lists, MX: objects); mailauth's types only name strings.
  const answers = (): unknown[] => {
    switch (rr) {
      case 'TXT':
        return records.map((r) => (r.data as Buffer[]).map((b) => b.toString()));
      case 'MX':
        return records.map((r) => ({ exchange: (r.data as { exchange: string }).exchange, priority: (r.data as { preference: number }).preference }));
      default:
        return records.map((r) => r.data);
    }
  };
  return answers() as string[];
}

// Passes only through the macro: the sending address, looked up under _spf of the sender's domain.
const SPF = 'v=spf1 exists:%{i}._spf.%{d} -all';
const txt = async (name: string) => (await bind.query(name, 'TXT')).map((r) => (r.data as Buffer[]).map((b) => b.toString()));

beforeAll(async () => {
  bind = await startBind({ zones: ['example.test'] });
  // The TSIG secret reaches the applier as it reaches the dns provider: from the environment.
  process.env.DNS_UPDATE_KEYSECRET = bind.keySecret;
  stack = await exampleStack('dns', (doc) => {
    doc.dns = { provider: 'rfc2136', rfc2136: { server: '127.0.0.1', port: bind.port, keyName: bind.keyName, keyAlgorithm: bind.keyAlgorithm }, addresses: ['192.0.2.25'], spf: SPF };
    doc.relay = { networks: [], smarthost: { host: `t-dns-${process.pid}-sink`, port: 25, tls: 'none' } };
  });
  await stack.up();
  sink = await startSink(`${stack.prefix}-sink`, `${stack.prefix}-net`);
});

afterAll(async () => {
  try {
    await sink?.stop();
    // down removes the records too, so it still needs the secret.
    await stack?.down(true);
  } finally {
    await bind?.stop();
    if (savedSecret === undefined) delete process.env.DNS_UPDATE_KEYSECRET;
    else process.env.DNS_UPDATE_KEYSECRET = savedSecret;
  }
});

describe('the records up publishes', () => {
  it('are in the DNS server exactly as declared', async () => {
    expect((await bind.query('example.test', 'MX')).map((r) => r.data)).toEqual([{ preference: 10, exchange: 'mail.example.test' }]);
    expect((await bind.query('mail.example.test', 'A')).map((r) => r.data)).toEqual(['192.0.2.25']);
    expect(await txt('example.test')).toEqual([[SPF]]);
    expect(await txt('_dmarc.example.test')).toEqual([['v=DMARC1; p=quarantine; adkim=r; aspf=r; rua=mailto:postmaster@example.test']]);
    expect(await txt('_smtp._tls.example.test')).toEqual([['v=TLSRPTv1; rua=mailto:postmaster@example.test']]);
    expect((await txt('_mta-sts.example.test'))[0][0]).toMatch(/^v=STSv1; id=[0-9a-f]{20}$/);
    expect((await bind.query('_submission._tcp.example.test', 'SRV')).map((r) => r.data)).toEqual([{ priority: 0, weight: 1, port: stack.ports.submission, target: 'mail.example.test' }]);
    expect((await bind.query('_imaps._tcp.example.test', 'SRV')).map((r) => r.data)).toEqual([{ priority: 0, weight: 1, port: stack.ports.imaps, target: 'mail.example.test' }]);
  });

  it('include the DKIM public key of the generated key, in strings of at most 255 bytes', async () => {
    const [strings] = await txt('mailstack._domainkey.example.test');
    expect(strings.length).toBe(2);
    expect(strings.every((s) => Buffer.byteLength(s) <= 255)).toBe(true);
    expect(strings.join('')).toMatch(/^v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA[A-Za-z0-9+/]+=*$/);
  });
});

describe('the zone-file output', () => {
  it('is a zone named-checkzone accepts, holding the same records', async () => {
    const { stackOutputs } = await stack.up();
    const zoneFile = String(stackOutputs.zone_file);
    expect(zoneFile).toContain(`IN TXT   "${SPF}"`);
    expect(zoneFile).toMatch(/^mailstack\._domainkey +3600 +IN TXT +"v=DKIM1; k=rsa; p=[A-Za-z0-9+/]{237}" "[A-Za-z0-9+/=]{155}"$/m);
    const zone = `$TTL 3600\n@ IN SOA ns1.example.test. hostmaster.example.test. 1 3600 600 86400 300\n@ IN NS ns1.example.test.\nns1 IN A 192.0.2.53\n${zoneFile}`;
    const check = await bind.checkZone('example.test', zone);
    expect(check.stdout).toMatch(/OK/);
    expect(check.exitCode).toBe(0);
  });
});

describe('mail from an authenticated user, through the smarthost', () => {
  let postfixIp: string;

  beforeAll(async () => {
    // The stack's public address is the one the sink sees: publish it, as an operator would.
    const postfix = await docker.getContainer(`${stack.prefix}-postfix`).inspect();
    postfixIp = postfix.NetworkSettings.Networks[`${stack.prefix}-net`].IPAddress;
    stack.edit((doc) => {
      (doc.dns as { addresses: string[] }).addresses = [postfixIp];
    });
    const result = await stack.up();
    // Only the A record changes; no container is touched.
    expect(result.plan.filter((p) => p.action !== 'keep').map((p) => p.resource.type)).toEqual(['dns_a_record_set']);
    expect((await bind.query('mail.example.test', 'A')).map((r) => r.data)).toEqual([postfixIp]);
    // What the SPF macro asks for, as the domain's owner would publish it.
    await bind.nsupdate([`update add ${postfixIp}._spf.example.test. 600 IN A 127.0.0.2`]);

    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: stack.ports.submission, requireTLS: true, auth: { user: 'alice@example.test', pass: 'alice-secret' }, tls: { rejectUnauthorized: false } });
    await transport.sendMail({ from: 'Alice <alice@example.test>', to: 'friend@remote.test', subject: 'signed and sealed', text: 'Hello from the stack.\n' });
  });

  it('arrives DKIM-signed, and passes DKIM, SPF and DMARC against the published records', async () => {
    const [message] = await sink.waitFor(1);
    expect(message.ip).toBe(postfixIp);
    expect(message.raw.toString()).toMatch(/^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed\/simple; d=example\.test;\s+s=mailstack;/m);
    const result = await authenticate(message.raw, { ip: message.ip, helo: message.helo, sender: message.from, mta: 'sink.remote.test', resolver });
    expect(result.dkim.results.map((r: { status: { result: string } }) => r.status.result)).toEqual(['pass']);
    expect(result.spf && result.spf.status.result).toBe('pass');
    // The macro really decides: another address has no record under _spf.
    const elsewhere = await authenticate(message.raw, { ip: '192.0.2.99', helo: message.helo, sender: message.from, mta: 'sink.remote.test', resolver });
    expect(elsewhere.spf && elsewhere.spf.status.result).toBe('fail');
    expect(result.dmarc && result.dmarc.status.result).toBe('pass');
  });

  it('fails DKIM once the body is altered after signing (the verifier really checks)', async () => {
    const [message] = await sink.waitFor(1);
    const tampered = Buffer.from(message.raw.toString().replace('Hello from the stack.', 'Hello from a forger.'));
    const result = await authenticate(tampered, { ip: message.ip, helo: message.helo, sender: message.from, mta: 'sink.remote.test', resolver });
    expect(result.dkim.results.map((r: { status: { result: string } }) => r.status.result)).not.toContain('pass');
    expect(JSON.stringify(result.dkim.results)).toMatch(/body hash did not verify/i);
  });
});
