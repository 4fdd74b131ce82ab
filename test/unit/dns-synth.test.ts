/** The DNS records, DKIM and smarthost the stack declares, read from the synthesized Terraform JSON. */
import { generateKeyPairSync } from 'node:crypto';
import { Container } from '@cdktf/provider-docker/lib/container';
import { DnsRecord } from '@cdktf/provider-cloudflare/lib/dns-record';
import { MxRecordSet } from '@cdktf/provider-dns/lib/mx-record-set';
import { SrvRecordSet } from '@cdktf/provider-dns/lib/srv-record-set';
import { TxtRecordSet } from '@cdktf/provider-dns/lib/txt-record-set';
import { PrivateKey } from '@cdktf/provider-tls/lib/private-key';
import { RSA_SPKI_BASE64_LENGTH } from '../../constructs/dkim';
import { renderMtaStsPolicy, txtStrings } from '../../render/dns-records';
import { parseTemplate } from '../../applier/expressions';
import { BASE_YAML, synthYaml, uploadsOf } from '../support/synth';

const RFC2136 = `${BASE_YAML}dns:
  rfc2136: { server: 127.0.0.1, port: 5353, keyName: mailstack }
  addresses: [192.0.2.25, "2001:db8::25"]
`;

type Resources = Record<string, Record<string, unknown>>;
const all = (json: { resource: Record<string, Resources> }, type: string) => Object.values(json.resource[type] ?? {});

describe('DNS records through RFC 2136 (hashicorp/dns)', () => {
  const { text, json } = synthYaml(RFC2136);

  it('configures the dns provider with server, port and key name, never the secret', () => {
    expect(JSON.stringify(json.provider)).toContain('"server":"127.0.0.1"');
    expect((json.provider as { dns: { update: unknown[] }[] }).dns[0].update).toEqual([{ server: '127.0.0.1', port: 5353, key_name: 'mailstack.', key_algorithm: 'hmac-sha256' }]);
  });

  it('points MX at the mail host', () => {
    expect(text).toHaveResourceWithProperties(MxRecordSet, { zone: 'example.test.', mx: [{ preference: 10, exchange: 'mail.example.test.' }], ttl: 3600 });
  });

  it('publishes A and AAAA for the mail host', () => {
    expect(all(json, 'dns_a_record_set')).toEqual([expect.objectContaining({ zone: 'example.test.', name: 'mail', addresses: ['192.0.2.25'] })]);
    expect(all(json, 'dns_aaaa_record_set')).toEqual([expect.objectContaining({ zone: 'example.test.', name: 'mail', addresses: ['2001:db8::25'] })]);
  });

  it('publishes SPF, DMARC, MTA-STS and TLS-RPT TXT records with their defaults', () => {
    const txt = Object.fromEntries(all(json, 'dns_txt_record_set').map((r) => [r.name ?? '@', r.txt]));
    expect(text).toHaveResourceWithProperties(TxtRecordSet, { zone: 'example.test.', txt: ['v=spf1 mx -all'] });
    expect(txt['@']).toEqual(['v=spf1 mx -all']);
    expect(txt._dmarc).toEqual(['v=DMARC1; p=quarantine; adkim=r; aspf=r; rua=mailto:postmaster@example.test']);
    expect(txt['_mta-sts']).toEqual([expect.stringMatching(/^v=STSv1; id=[0-9a-f]{20}$/)]);
    expect(txt['_smtp._tls']).toEqual(['v=TLSRPTv1; rua=mailto:postmaster@example.test']);
  });

  it('publishes the DKIM key of each domain at <selector>._domainkey, cut from the generated key', () => {
    expect(text).toHaveResourceWithProperties(PrivateKey, { algorithm: 'RSA', rsa_bits: 2048 });
    const value = (all(json, 'dns_txt_record_set').find((r) => r.name === 'mailstack._domainkey')?.txt as string[])[0];
    expect(value).toMatch(/^v=DKIM1; k=rsa; p=\$\{substr\(replace\(replace\(replace\(tls_private_key\.MailServer_Dkim_exampletest_\w+\.public_key_pem, "-----BEGIN PUBLIC KEY-----", ""\), "-----END PUBLIC KEY-----", ""\), "\\n", ""\), 0, 237\)\}\$\{substr\(.*, 237, 155\)\}$/);
  });

  it('publishes SRV records for each published service, and "." for one that is not', () => {
    const { text: partial } = synthYaml(RFC2136.replace('ports: { smtp: 2525, submission: 2587, imaps: 2993 }', 'ports: { smtp: 25, submission: 587, imaps: 993 }'));
    expect(partial).toHaveResourceWithProperties(SrvRecordSet, { name: '_submission._tcp', srv: [{ priority: 0, weight: 1, port: 587, target: 'mail.example.test.' }] });
    expect(partial).toHaveResourceWithProperties(SrvRecordSet, { name: '_imaps._tcp', srv: [{ priority: 0, weight: 1, port: 993, target: 'mail.example.test.' }] });
    for (const service of ['_submissions._tcp', '_imap._tcp', '_pop3._tcp', '_pop3s._tcp']) {
      expect(partial).toHaveResourceWithProperties(SrvRecordSet, { name: service, srv: [{ priority: 0, weight: 0, port: 0, target: '.' }] });
    }
  });

  it('switches each record off, and overrides SPF and DMARC', () => {
    const { json: off } = synthYaml(`${RFC2136}  mx: false\n  srv: false\n  mtaSts: false\n  tlsRpt: false\n  spf: "v=spf1 ip4:192.0.2.0/24 -all"\n  dmarc: { policy: reject, rua: reports@dmarc.example.net, adkim: s, aspf: s, percent: 50 }\n`);
    expect(all(off, 'dns_mx_record_set')).toEqual([]);
    expect(all(off, 'dns_srv_record_set')).toEqual([]);
    const txt = Object.fromEntries(all(off, 'dns_txt_record_set').map((r) => [r.name ?? '@', r.txt]));
    expect(Object.keys(txt).sort()).toEqual(['@', '_dmarc', 'mailstack._domainkey']);
    expect(txt['@']).toEqual(['v=spf1 ip4:192.0.2.0/24 -all']);
    expect(txt._dmarc).toEqual(['v=DMARC1; p=reject; adkim=s; aspf=s; pct=50; rua=mailto:reports@dmarc.example.net']);
  });
});

describe('the zone-file output (provider none)', () => {
  const { json } = synthYaml(`${BASE_YAML}dns: { provider: none, addresses: [192.0.2.25] }\n`);
  const zone = String((json.output!.zone_file as { value: string }).value);

  it('declares no DNS resources', () => {
    expect(Object.keys(json.resource).filter((t) => t.startsWith('dns_') || t.startsWith('cloudflare_'))).toEqual([]);
  });

  it('writes every record in BIND syntax, the DKIM value as two quoted strings of at most 255 bytes', () => {
    expect(zone).toContain('$ORIGIN example.test.\n');
    expect(zone).toMatch(/^mail +3600 +IN A +192\.0\.2\.25$/m);
    expect(zone).toMatch(/^@ +3600 +IN MX +10 mail\.example\.test\.$/m);
    expect(zone).toMatch(/^@ +3600 +IN TXT +"v=spf1 mx -all"$/m);
    expect(zone).toMatch(/^mailstack\._domainkey +3600 +IN TXT +"v=DKIM1; k=rsa; p=\$\{substr\([^"]*"[^$]*, 0, 237\)\}" "\$\{substr\(.*, 237, 155\)\}"$/m);
    expect(zone).toMatch(/^_submission\._tcp +3600 +IN SRV +0 1 2587 mail\.example\.test\.$/m);
  });

  it('gives the MTA-STS policy and a PTR reminder as outputs', () => {
    expect((json.output!.mta_sts_policies as { value: Record<string, string> }).value).toEqual({
      'example.test': 'version: STSv1\r\nmode: testing\r\nmx: mail.example.test\r\nmax_age: 604800\r\n',
    });
    expect(String((json.output!.ptr_reminder as { value: string[] }).value)).toContain('PTR of 192.0.2.25 -> mail.example.test.');
  });
});

describe('Cloudflare', () => {
  it('declares one cloudflare_dns_record per record, in the configured zone', () => {
    const { text, json } = synthYaml(`${BASE_YAML}dns:\n  provider: cloudflare\n  cloudflare: { zoneIds: { example.test: 0123456789abcdef0123456789abcdef } }\n`);
    expect(text).toHaveResourceWithProperties(DnsRecord, { zone_id: '0123456789abcdef0123456789abcdef', name: 'example.test', type: 'MX', content: 'mail.example.test', priority: 10 });
    expect(text).toHaveResourceWithProperties(DnsRecord, { name: '_dmarc.example.test', type: 'TXT', content: '"v=DMARC1; p=quarantine; adkim=r; aspf=r; rua=mailto:postmaster@example.test"' });
    expect(text).toHaveResourceWithProperties(DnsRecord, { name: '_imaps._tcp.example.test', type: 'SRV', data: { priority: 0, weight: 1, port: 2993, target: 'mail.example.test' } });
    expect(all(json, 'dns_txt_record_set')).toEqual([]);
  });

  it('matches zone ids to zones whatever their case, and refuses one zone spelled twice', () => {
    const id = (c: string) => c.repeat(32);
    const { text } = synthYaml(`${BASE_YAML}dns:\n  provider: cloudflare\n  cloudflare: { zoneIds: { Example.TEST: ${id('a')} } }\n`);
    expect(text).toHaveResourceWithProperties(DnsRecord, { zone_id: id('a'), name: 'example.test', type: 'MX' });
    const twice = `${BASE_YAML}dns:\n  provider: cloudflare\n  cloudflare: { zoneIds: { example.test: ${id('a')}, EXAMPLE.test: ${id('b')} } }\n`;
    expect(() => synthYaml(twice)).toThrow('dns.cloudflare.zoneIds["EXAMPLE.test"]: names the same zone as "example.test" (zone names ignore case)');
  });
});

describe('an SPF record holding "${" or "%{" (SPF macros)', () => {
  const spf = 'v=spf1 exists:%{i}._spf.%{d} a:${var.smarthost_password} -all';
  const dns = (provider: string) => `${BASE_YAML}dns:\n  spf: "${spf}"\n  provider: ${provider}\n`;
  const literal = (template: string) => {
    const parsed = parseTemplate(template);
    if (parsed.kind !== 'literal') throw new Error(`Terraform would evaluate ${JSON.stringify(template)}`);
    return String(parsed.value);
  };

  it('is published through rfc2136 as written, not read as Terraform syntax', () => {
    const { json } = synthYaml(`${dns('rfc2136')}  rfc2136: { server: 192.0.2.53 }\n`);
    const spfRecord = Object.values(json.resource.dns_txt_record_set).find((r) => (r.txt as string[])[0].startsWith('v=spf1'))!;
    expect(literal((spfRecord.txt as string[])[0])).toBe(spf);
  });

  it('is published through Cloudflare as written', () => {
    const { json } = synthYaml(`${dns('cloudflare')}  cloudflare: { zoneIds: { example.test: ${'a'.repeat(32)} } }\n`);
    const spfRecord = Object.values(json.resource.cloudflare_dns_record).find((r) => String(r.content).startsWith('"v=spf1'))!;
    expect(literal(String(spfRecord.content))).toBe(`"${spf}"`);
  });

  it('is in the zone-file output as written, beside the DKIM key Terraform fills in', () => {
    const { json } = synthYaml(dns('none'));
    const zoneFile = (json.output!.zone_file as { value: string }).value;
    expect(parseTemplate(zoneFile).kind).not.toBe('literal');
    expect(zoneFile).toContain('"v=spf1 exists:%%{i}._spf.%%{d} a:$${var.smarthost_password} -all"');
    expect(literal(zoneFile.split('\n').find((l) => l.includes('v=spf1'))!)).toContain(`"${spf}"`);
  });
});

describe('DKIM', () => {
  it('cuts TXT values into character-strings of at most 255 bytes', () => {
    expect(txtStrings('a'.repeat(600)).map((s) => s.length)).toEqual([255, 255, 90]);
    expect(txtStrings('short')).toEqual(['short']);
  });

  it.each([1024, 2048, 3072, 4096])('knows the base64 length of a %i-bit RSA public key', (bits) => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
    expect(publicKey.export({ type: 'spki', format: 'der' }).toString('base64').length).toBe(RSA_SPKI_BASE64_LENGTH[bits]);
  });

  it('signs through the OpenDKIM milter: a container, keys uploaded 0600, milters in main.cf', () => {
    const { text, json } = synthYaml(BASE_YAML.replace('domains: [example.test]', 'domains: [example.test, example.org]').replace('aliases:', 'aliases:\n  postmaster@example.org: alice@example.test'));
    expect(text).toHaveResourceWithProperties(Container, { name: 'mailstack-opendkim' });
    const opendkim = Object.values(json.resource.docker_container).find((c) => c.name === 'mailstack-opendkim')!;
    const uploads = Object.fromEntries((opendkim.upload as { file: string; content: string; permissions: string }[]).map((u) => [u.file, u]));
    expect(uploads['/etc/opendkim/keys/example.org.private']).toMatchObject({ content: expect.stringMatching(/^\$\{tls_private_key\.MailServer_Dkim_exampleorg_\w+\.private_key_pem\}$/), permissions: '0600' });
    expect(uploads['/etc/opendkim/SigningTable'].content).toBe('*@example.org mailstack._domainkey.example.org\n*@example.test mailstack._domainkey.example.test\n');
    expect(uploadsOf(json, 'postfix')['/etc/postfix/main.cf'].text).toContain('smtpd_milters = unix:/var/spool/postfix/private/mailstack/opendkim.sock\n');
  });

  it('can be turned off: no milter, no key, no DKIM record', () => {
    const { json } = synthYaml(`${BASE_YAML}dkim: { enabled: false }\ndns: { provider: none }\n`);
    expect(Object.values(json.resource.docker_container).map((c) => c.name)).not.toContain('mailstack-opendkim');
    expect(all(json, 'tls_private_key').filter((k) => k.algorithm === 'RSA')).toEqual([]);
    expect(uploadsOf(json, 'postfix')['/etc/postfix/main.cf'].text).not.toContain('milters');
    expect(String((json.output!.zone_file as { value: string }).value)).not.toContain('_domainkey');
  });
});

describe('smarthost', () => {
  const yaml = `${BASE_YAML.replace('ports:', 'relay:\n  smarthost: { host: smtp.provider.test, port: 587, username: relay-user@example.test }\nports:')}`;
  const { text, json } = synthYaml(yaml);

  it('sends all non-local mail through it, TLS required, logging in with SASL', () => {
    const mainCf = uploadsOf(json, 'postfix')['/etc/postfix/main.cf'].text!;
    expect(mainCf).toContain('relayhost = [smtp.provider.test]:587\n');
    expect(mainCf).toContain('smtp_tls_security_level = encrypt\n');
    expect(mainCf).toContain('smtp_sasl_auth_enable = yes\n');
    expect(mainCf).toContain('smtp_sasl_password_maps = texthash:/etc/postfix/sasl_passwords\n');
  });

  it('takes the password from the sensitive variable smarthost_password, never from the synthesized text', () => {
    expect((json as unknown as { variable: Record<string, unknown> }).variable.smarthost_password).toMatchObject({ sensitive: true, type: 'string' });
    expect(uploadsOf(json, 'postfix')['/etc/postfix/sasl_passwords']).toMatchObject({
      content: '[smtp.provider.test]:587 relay-user@example.test:${var.smarthost_password}\n',
      permissions: '0600',
    });
    expect(text).not.toMatch(/password"\s*:\s*"[^$]/);
  });

  it('uses implicit TLS on 465 when told', () => {
    const { json: implicit } = synthYaml(yaml.replace('port: 587, ', 'tls: implicit, '));
    const mainCf = uploadsOf(implicit, 'postfix')['/etc/postfix/main.cf'].text!;
    expect(mainCf).toContain('relayhost = [smtp.provider.test]:465\n');
    expect(mainCf).toContain('smtp_tls_wrappermode = yes\n');
  });
});

describe('the MTA-STS policy', () => {
  it('follows RFC 8461 (CRLF lines, version first)', () => {
    expect(renderMtaStsPolicy('mx.example.test', { mode: 'enforce', maxAgeSeconds: 86400 })).toBe('version: STSv1\r\nmode: enforce\r\nmx: mx.example.test\r\nmax_age: 86400\r\n');
  });
});
