/**
 * The applier's DNS wire code without a server: the UPDATE messages it sends
 * (byte for byte against hand-assembled ones), TXT splitting as the provider's
 * parser does it, TSIG signing and the checks on a signed response, and the
 * provider settings taken from the block or the environment. That BIND accepts
 * all this is the e2e test's business (test/e2e/dns-records.test.ts).
 */
import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as dnsPacket from 'dns-packet';
import { loadStack } from '../../applier/apply';
import { UnsupportedError } from '../../applier/attributes';
import { dnsUpdateSettings } from '../../applier/dns/client';
import { queryMessage } from '../../applier/dns/query';
import { signRequest, takeTsig, TSIG_ALGORITHMS, TsigAlgorithm, TsigKey, verifyResponse } from '../../applier/dns/tsig';
import { updateMessage } from '../../applier/dns/update';
import { encodeName, rdata, txtStrings } from '../../applier/dns/wire';

/** Wire bytes written out by hand: numbers are bytes, strings their ASCII. */
const bytes = (...parts: (number | string | number[] | Buffer)[]): Buffer =>
  Buffer.from(parts.flatMap((p) => (typeof p === 'string' ? [...Buffer.from(p, 'latin1')] : typeof p === 'number' ? [p] : [...p])));
/** A name in wire form, label by label, written without the code under test. */
const wireName = (...labels: string[]) => bytes(...labels.flatMap((l) => [l.length, l]), 0);
const u16 = (n: number) => [n >> 8, n & 0xff];
const u32 = (n: number) => [(n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];

const ZONE = wireName('example', 'test');
const X = wireName('x', 'example', 'test');
const TYPE_TXT = u16(16);

describe('UPDATE messages', () => {
  it('replace: zone section (SOA, IN), then delete the RRset (ANY, TTL 0, no rdata), then each record (IN) — names never compressed', () => {
    const message = updateMessage({ zone: 'example.test.', name: 'x.example.test.', type: 'TXT' }, 300, [rdata.TXT('hi'), rdata.TXT('there')]);
    const expected = Buffer.concat([
      bytes(u16(0), u16(0x2800), u16(1), u16(0), u16(3), u16(0)), // ID 0, opcode UPDATE; ZO 1, PR 0, UP 3, AD 0
      ZONE, bytes(u16(6), u16(1)),
      X, bytes(TYPE_TXT, u16(255), u32(0), u16(0)),
      X, bytes(TYPE_TXT, u16(1), u32(300), u16(3), 2, 'hi'),
      X, bytes(TYPE_TXT, u16(1), u32(300), u16(6), 5, 'there'),
    ]);
    expect(message.toString('hex')).toBe(expected.toString('hex'));
  });

  it('delete: the zone and one RRset deletion only', () => {
    const message = updateMessage({ zone: 'example.test.', name: 'example.test.', type: 'MX' }, 0, []);
    expect(message.toString('hex')).toBe(
      Buffer.concat([bytes(u16(0), u16(0x2800), u16(1), u16(0), u16(1), u16(0)), ZONE, bytes(u16(6), u16(1)), ZONE, bytes(u16(15), u16(255), u32(0), u16(0))]).toString('hex'),
    );
  });

  it('is read back by an independent decoder (dns-packet) as the same records', () => {
    const message = updateMessage({ zone: 'example.test.', name: 'example.test.', type: 'MX' }, 3600, [rdata.MX(10, 'mail.example.test.'), rdata.MX(20, 'Backup.Example.Test.')]);
    // dns-packet cannot decode the empty-rdata deletion record: take it out (it is the first update record).
    const withoutDelete = Buffer.concat([message.subarray(0, 12), message.subarray(12, 12 + ZONE.length + 4), message.subarray(12 + ZONE.length + 4 + ZONE.length + 10)]);
    withoutDelete.writeUInt16BE(2, 8);
    const decoded = dnsPacket.decode(withoutDelete);
    expect(decoded.questions).toEqual([{ name: 'example.test', type: 'SOA', class: 'IN' }]);
    expect(decoded.authorities).toEqual([
      expect.objectContaining({ name: 'example.test', type: 'MX', class: 'IN', ttl: 3600, data: { preference: 10, exchange: 'mail.example.test' } }),
      expect.objectContaining({ name: 'example.test', type: 'MX', class: 'IN', ttl: 3600, data: { preference: 20, exchange: 'Backup.Example.Test' } }),
    ]);
  });

  it('queries ask one question, class IN, RD only when recursive', () => {
    expect(queryMessage('x.example.test.', 'TXT', false).toString('hex')).toBe(Buffer.concat([bytes(u16(0), u16(0), u16(1), u16(0), u16(0), u16(0)), X, bytes(TYPE_TXT, u16(1))]).toString('hex'));
    expect(queryMessage('x.example.test.', 'TXT', true).readUInt16BE(2)).toBe(0x0100);
  });
});

describe('rdata', () => {
  it('A: four bytes; leading zeros stripped as the provider does (decimal, not octal)', () => {
    expect([...rdata.A('192.0.2.10')]).toEqual([192, 0, 2, 10]);
    expect([...rdata.A('010.000.002.010')]).toEqual([10, 0, 2, 10]);
    expect(() => rdata.A('192.0.2')).toThrow('"192.0.2" is not an IPv4 address');
    expect(() => rdata.A('2001:db8::1')).toThrow('not an IPv4 address');
  });

  it('AAAA: sixteen bytes, whatever the spelling', () => {
    expect(rdata.AAAA('2001:db8::10').toString('hex')).toBe('20010db8000000000000000000000010');
    expect(rdata.AAAA('2001:0DB8:0:0:0:0:0:10')).toEqual(rdata.AAAA('2001:db8::10'));
    expect(rdata.AAAA('::ffff:192.0.2.1').toString('hex')).toBe('00000000000000000000ffffc0000201');
    expect(() => rdata.AAAA('192.0.2.1')).toThrow('not an IPv6 address');
  });

  it('MX and SRV: numbers then the name uncompressed; "." is the root, one zero byte', () => {
    expect(rdata.MX(10, 'mail.example.test.')).toEqual(bytes(u16(10), wireName('mail', 'example', 'test')));
    expect(rdata.SRV(0, 0, 0, '.')).toEqual(bytes(u16(0), u16(0), u16(0), 0));
    expect(rdata.SRV(10, 5, 587, 'mail.example.test.')).toEqual(bytes(u16(10), u16(5), u16(587), wireName('mail', 'example', 'test')));
    expect(() => rdata.MX(70000, 'mail.example.test.')).toThrow('MX preference 70000 is not an integer from 0 to 65535');
    expect(() => rdata.SRV(0, 0, -1, '.')).toThrow('SRV port -1');
  });

  it('names: fully qualified, labels of 1..63 bytes, 255 in all, no escapes', () => {
    expect(encodeName('.')).toEqual(Buffer.from([0]));
    expect(() => encodeName('mail.example.test')).toThrow('not fully qualified');
    expect(() => encodeName('mail..test.')).toThrow('empty label');
    expect(() => encodeName(`${'a'.repeat(64)}.test.`)).toThrow('longer than 63');
    expect(() => encodeName(`${'a.'.repeat(128)}`)).toThrow('longer than 255');
    expect(() => encodeName('a\\.b.test.')).toThrow('escaped names are not supported');
  });
});

describe('TXT: each value one record, cut into character-strings as miekg/dns does', () => {
  const lengths = (value: string) => txtStrings(value).map((s) => s.length);

  it('a value up to 255 bytes is one string; longer ones are 255-byte strings and the rest', () => {
    expect(lengths('v=spf1 mx -all')).toEqual([14]);
    expect(lengths('a'.repeat(255))).toEqual([255]);
    expect(lengths('a'.repeat(256))).toEqual([255, 1]);
    expect(lengths('a'.repeat(400))).toEqual([255, 145]);
    expect(lengths('a'.repeat(511))).toEqual([255, 255, 1]);
    expect(lengths('')).toEqual([0]);
  });

  it('a 400-byte DKIM key: one record holding 255 + 145 bytes, concatenating back to the value', () => {
    const dkim = `v=DKIM1; k=rsa; p=${'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA'.repeat(10)}`.slice(0, 400);
    const record = rdata.TXT(dkim);
    expect(record.length).toBe(402);
    expect(record[0]).toBe(255);
    expect(record[256]).toBe(145);
    expect(Buffer.concat(txtStrings(dkim)).toString()).toBe(dkim);
  });

  it('escapes are unescaped after the cut (\\" \\\\ \\DDD); a bare double quote or a line break is refused', () => {
    expect(txtStrings('say \\"hi\\" \\\\ \\059')).toEqual([Buffer.from('say "hi" \\ ;')]);
    // The cut is made in the text as written: here it falls between the backslash and 065.
    expect(txtStrings(`${'a'.repeat(254)}\\065b`).map(String)).toEqual(['a'.repeat(254), '065b']);
    expect(() => txtStrings('say "hi"')).toThrow('contains a double quote that is not escaped');
    expect(() => txtStrings('two\nlines')).toThrow('line break');
  });

  it('multi-byte UTF-8 is counted in bytes', () => {
    expect(lengths('é'.repeat(200))).toEqual([255, 145]);
  });
});

const KEY: TsigKey = { name: 'mailstack-test.', algorithm: 'hmac-sha256', secret: Buffer.from('0123456789abcdef0123456789abcdef') };
const TIME = 1_700_000_000; // 0x6553F100

/** The TSIG variables of RFC 8945 4.3.3, written out by hand for KEY. */
const variables = (algorithm: string, time: number, error = 0, other: number[] = []) =>
  bytes(wireName('mailstack-test'), u16(255), u32(0), wireName(...algorithm.split('.').filter(Boolean)), u16(0), u32(time), u16(300), u16(error), u16(other.length), other);

describe('TSIG', () => {
  const message = updateMessage({ zone: 'example.test.', name: 'x.example.test.', type: 'TXT' }, 300, [rdata.TXT('hi')]);
  message.writeUInt16BE(0xbeef, 0);

  it('signs the message and the TSIG variables with HMAC-SHA256, and appends the TSIG record', () => {
    const { wire, mac } = signRequest(message, KEY, TIME);
    const expectedMac = createHmac('sha256', KEY.secret).update(message).update(variables('hmac-sha256.', TIME)).digest();
    expect(mac.toString('hex')).toBe(expectedMac.toString('hex'));
    const tsig = bytes(wireName('mailstack-test'), u16(250), u16(255), u32(0), u16(13 + 6 + 2 + 2 + 32 + 6), wireName('hmac-sha256'), u16(0), u32(TIME), u16(300), u16(32), [...expectedMac], u16(0xbeef), u16(0), u16(0));
    const header = Buffer.from(message.subarray(0, 12));
    header.writeUInt16BE(1, 10); // ARCOUNT counts the TSIG record
    expect(wire.toString('hex')).toBe(Buffer.concat([header, message.subarray(12), tsig]).toString('hex'));
  });

  it.each(Object.entries(TSIG_ALGORITHMS))('%s: the algorithm name on the wire and the MAC length', (algorithm, { wireName: name, digest }) => {
    const key = { ...KEY, algorithm: algorithm as TsigAlgorithm };
    const { wire, mac } = signRequest(message, key, TIME);
    expect(mac).toEqual(createHmac(digest, KEY.secret).update(message).update(variables(name, TIME)).digest());
    expect(mac.length).toBe({ md5: 16, sha1: 20, sha256: 32, sha512: 64 }[digest]);
    const taken = takeTsig(wire);
    expect(taken.message.toString('hex')).toBe(message.toString('hex'));
    expect(taken.tsig).toMatchObject({ keyName: 'mailstack-test.', algorithm: name, timeSigned: TIME, fudge: 300, originalId: 0xbeef, error: 0 });
  });

  /** A response as a server signs it (RFC 8945 5.3): request MAC, response without TSIG, variables. */
  function signedResponse(o: { rcode?: number; requestMac: Buffer; secret?: Buffer; time?: number; error?: number; noMac?: boolean }) {
    const response = Buffer.from(message);
    response.writeUInt16BE(0x8000 | (5 << 11) | (o.rcode ?? 0), 2);
    const time = o.time ?? TIME;
    const mac = o.noMac
      ? Buffer.alloc(0)
      : createHmac('sha256', o.secret ?? KEY.secret).update(Buffer.from(u16(o.requestMac.length))).update(o.requestMac).update(response).update(variables('hmac-sha256.', time, o.error ?? 0)).digest();
    const rdataBytes = bytes(wireName('hmac-sha256'), u16(0), u32(time), u16(300), u16(mac.length), [...mac], u16(0xbeef), u16(o.error ?? 0), u16(0));
    const signed = Buffer.concat([response, bytes(wireName('mailstack-test'), u16(250), u16(255), u32(0), u16(rdataBytes.length), [...rdataBytes])]);
    signed.writeUInt16BE(1, 10);
    return signed;
  }

  it('accepts a response signed over the request MAC with the same key', () => {
    const { mac } = signRequest(message, KEY, TIME);
    expect(() => verifyResponse(signedResponse({ requestMac: mac }), mac, KEY, TIME + 10)).not.toThrow();
  });

  it('refuses a response whose MAC does not verify: other secret, other request MAC, a changed byte', () => {
    const { mac } = signRequest(message, KEY, TIME);
    expect(() => verifyResponse(signedResponse({ requestMac: mac, secret: Buffer.from('another secret') }), mac, KEY, TIME)).toThrow(
      'the server answered NOERROR with a TSIG MAC that does not verify (BADSIG) for key mailstack-test.',
    );
    expect(() => verifyResponse(signedResponse({ requestMac: Buffer.alloc(32) }), mac, KEY, TIME)).toThrow('does not verify (BADSIG)');
    const tampered = signedResponse({ requestMac: mac });
    tampered[14] ^= 1; // a letter of the zone name
    expect(() => verifyResponse(tampered, mac, KEY, TIME)).toThrow('does not verify (BADSIG)');
  });

  it('refuses an unsigned response, naming its RCODE', () => {
    const { mac } = signRequest(message, KEY, TIME);
    const unsigned = Buffer.from(message);
    unsigned.writeUInt16BE(0x8000 | (5 << 11) | 5, 2);
    expect(() => verifyResponse(unsigned, mac, KEY, TIME)).toThrow('the server answered REFUSED without a TSIG signature, to a request signed with mailstack-test.');
  });

  it('reports the TSIG error of a NOTAUTH answer (BADSIG, BADKEY), which carries no MAC', () => {
    const { mac } = signRequest(message, KEY, TIME);
    expect(() => verifyResponse(signedResponse({ requestMac: mac, rcode: 9, error: 16, noMac: true }), mac, KEY, TIME)).toThrow(
      'the server answered NOTAUTH (TSIG error BADSIG): the server could not verify the signature: the key secret is not the one it has for mailstack-test. (hmac-sha256)',
    );
    expect(() => verifyResponse(signedResponse({ requestMac: mac, rcode: 9, error: 17, noMac: true }), mac, KEY, TIME)).toThrow('NOTAUTH (TSIG error BADKEY): the server does not know the key');
  });

  it('refuses a response signed more than the fudge away from now', () => {
    const { mac } = signRequest(message, KEY, TIME);
    expect(() => verifyResponse(signedResponse({ requestMac: mac }), mac, KEY, TIME + 301)).toThrow('(BADTIME)');
  });
});

describe('the provider settings', () => {
  const update = { server: '127.0.0.1', port: 5353, key_name: 'mailstack.', key_algorithm: 'hmac-sha256', key_secret: 'c2VjcmV0' };

  it('takes the update block (a list of one, as cdktf writes it, or an object) with the provider defaults', () => {
    const settings = dnsUpdateSettings({ update: [update] }, {});
    expect(settings).toEqual({
      server: '127.0.0.1',
      port: 5353,
      transport: 'udp',
      timeoutMs: 2000,
      retries: 3,
      recursive: false,
      key: { name: 'mailstack.', algorithm: 'hmac-sha256', secret: Buffer.from('secret') },
    });
    expect(dnsUpdateSettings({ update }, {})).toEqual(settings);
    expect(dnsUpdateSettings({ update: [{ server: 'ns.example.test' }] }, {})).toMatchObject({ port: 53, key: undefined });
  });

  it('reads what the block leaves out from DNS_UPDATE_*, as the provider does; the block wins', () => {
    const { key_secret: _secret, ...withoutSecret } = update;
    expect(dnsUpdateSettings({ update: [withoutSecret] }, { DNS_UPDATE_KEYSECRET: 'ZnJvbS1lbnY=' }).key?.secret.toString()).toBe('from-env');
    expect(dnsUpdateSettings({ update: [update] }, { DNS_UPDATE_KEYSECRET: 'ZnJvbS1lbnY=', DNS_UPDATE_PORT: '99' })).toMatchObject({ port: 5353, key: { secret: Buffer.from('secret') } });
    const env = {
      DNS_UPDATE_SERVER: '192.0.2.53',
      DNS_UPDATE_PORT: '1053',
      DNS_UPDATE_TRANSPORT: 'tcp',
      DNS_UPDATE_TIMEOUT: '1500ms',
      DNS_UPDATE_RETRIES: '5',
      DNS_UPDATE_KEYNAME: 'Env-Key.',
      DNS_UPDATE_KEYALGORITHM: 'hmac-sha512',
      DNS_UPDATE_KEYSECRET: 'ZnJvbS1lbnY=',
    };
    expect(dnsUpdateSettings(undefined, env)).toEqual({
      server: '192.0.2.53',
      port: 1053,
      transport: 'tcp',
      timeoutMs: 1500,
      retries: 5,
      recursive: false,
      key: { name: 'env-key.', algorithm: 'hmac-sha512', secret: Buffer.from('from-env') },
    });
    expect(dnsUpdateSettings({ update: [{}] }, { ...env, DNS_UPDATE_TIMEOUT: '7' }).timeoutMs).toBe(7000);
  });

  it('refuses what the provider refuses', () => {
    expect(() => dnsUpdateSettings({}, {})).toThrow('update server is not set');
    expect(() => dnsUpdateSettings({ update: [{ ...update, key_secret: undefined }] }, {})).toThrow('"key_name", "key_secret" and "key_algorithm" should be non empty');
    expect(() => dnsUpdateSettings({ update: [{ ...update, key_name: 'mailstack' }] }, {})).toThrow('"key_name" should be fully-qualified');
    expect(() => dnsUpdateSettings({ update: [{ ...update, key_algorithm: 'hmac-sha384' }] }, {})).toThrow('Unknown HMAC algorithm: hmac-sha384');
    expect(() => dnsUpdateSettings({ update: [{ ...update, key_secret: 'not base64!' }] }, {})).toThrow('is not base64');
    expect(() => dnsUpdateSettings({ update: [{ ...update, transport: 'quic' }] }, {})).toThrow('unknown transport quic');
    expect(() => dnsUpdateSettings({ update: [{ ...update, timeout: 'soon' }] }, {})).toThrow('invalid timeout: soon');
    expect(() => dnsUpdateSettings({ update: [{ ...update, port: undefined }] }, { DNS_UPDATE_PORT: 'x' })).toThrow(UnsupportedError);
    expect(() => dnsUpdateSettings({ update: [{ ...update, key_secret: '${var.dns_key_secret}' }] }, {})).toThrow('references in provider settings are not supported');
  });
});

describe('loadStack with the dns provider', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'dns-load-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const load = (json: unknown, n: string) => {
    mkdirSync(join(dir, n), { recursive: true });
    writeFileSync(join(dir, n, 'cdk.tf.json'), JSON.stringify(json));
    return loadStack(join(dir, n, 'cdk.tf.json'));
  };
  const txt = { dns_txt_record_set: { spf: { zone: 'example.test.', txt: ['v=spf1 mx -all'], provider: 'dns' } } };

  it('takes the provider block and hands it to the handlers', () => {
    const stack = load({ provider: { dns: [{ update: [{ server: '127.0.0.1', port: 5353 }] }] }, resource: txt }, 'ok');
    expect(stack.providers).toEqual({ dns: { update: [{ server: '127.0.0.1', port: 5353 }] } });
    expect(stack.resources.map((r) => r.address)).toEqual(['dns_txt_record_set.spf']);
    expect(load({ provider: { dns: { update: { server: '127.0.0.1' } } }, resource: txt }, 'object').providers.dns).toEqual({ update: { server: '127.0.0.1' } });
  });

  it('refuses settings and attributes it does not implement', () => {
    expect(() => load({ provider: { dns: [{ update: [{ server: 'x', gssapi: [{ realm: 'EXAMPLE' }] }] }] } }, 'gss')).toThrow('the attribute update.gssapi is not supported by the local applier');
    expect(() => load({ resource: { dns_txt_record_set: { spf: { zone: 'example.test.', txt: ['x'], records: [] } } } }, 'attr')).toThrow('dns_txt_record_set.spf: the attribute records is not supported');
    expect(() => load({ resource: { dns_ns_record_set: { ns: { zone: 'example.test.', nameservers: ['ns.example.test.'] } } } }, 'ns')).toThrow('the resource type dns_ns_record_set is not supported');
  });
});
