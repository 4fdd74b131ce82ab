/**
 * The administrator's options as they reach the Terraform JSON: quotas, the
 * reading protocols, IPv6 and postfix in the host network.
 */
import { BASE_YAML, synthYaml, TerraformJson, uploadsOf } from '../support/synth';

const container = (json: TerraformJson, name: string) => Object.values(json.resource.docker_container).find((c) => c.name === name)!;

describe('quotas', () => {
  // GIVEN a default quota, one mailbox with its own and one explicitly unlimited
  const yaml = `${BASE_YAML}limits: { mailboxSizeBytes: 50000000 }\n`.replace(
    'mailboxes:\n',
    `mailboxes:
  - address: bob@example.test
    passwordHash: "{SHA512-CRYPT}$6$G379Mwf3zgyfW.7A$bHUdNfm4gudV5ZWPaHUgZViATTlewopiy41tGiuPy68gRZNPvPefRN18xs761vuORcBMqvlMmrsywYZ3yKZYR0"
    quotaBytes: 10000
  - address: carol@example.test
    passwordHash: "{SHA512-CRYPT}$6$G379Mwf3zgyfW.7A$bHUdNfm4gudV5ZWPaHUgZViATTlewopiy41tGiuPy68gRZNPvPefRN18xs761vuORcBMqvlMmrsywYZ3yKZYR0"
    quotaBytes: 0
`,
  );
  const { json } = synthYaml(yaml);

  it('gives each mailbox its quota rule in the passwd-file, the default where it has none', () => {
    const users = uploadsOf(json, 'dovecot')['/etc/dovecot/directory/users'].text!.split('\n');
    expect(users.find((l) => l.startsWith('alice@'))).toMatch(/:userdb_quota_rule=\*:bytes=50000000$/);
    expect(users.find((l) => l.startsWith('bob@'))).toMatch(/:userdb_quota_rule=\*:bytes=10000$/);
    expect(users.find((l) => l.startsWith('carol@'))).toMatch(/::::::$/);
  });

  it('asks dovecot\'s quota-status service at RCPT, queueing the mail when dovecot does not answer', () => {
    expect(uploadsOf(json, 'postfix')['/etc/postfix/main.cf'].text).toContain(
      'smtpd_recipient_restrictions = reject_non_fqdn_recipient, reject_unlisted_recipient, check_policy_service { unix:private/mailstack/quota-status, default_action=DUNNO }\n',
    );
    const conf = uploadsOf(json, 'dovecot')['/etc/dovecot/dovecot.conf'].text!;
    expect(conf).toContain('quota_status_overquota = "552 5.2.2 Mailbox is full"');
    expect(conf).toMatch(/service quota-status \{\n  executable = quota-status -p postfix\n  unix_listener \/run\/mailstack\/sockets\/quota-status \{/);
  });
});

describe('protocols', () => {
  it('closes the listeners of the services left out and publishes nothing for them', () => {
    // GIVEN only IMAP over implicit TLS
    const { json } = synthYaml(`${BASE_YAML}protocols: [imaps]\n`);

    // THEN
    const conf = uploadsOf(json, 'dovecot')['/etc/dovecot/dovecot.conf'].text!;
    expect(conf).toContain('protocols = imap lmtp\n');
    expect(conf).toMatch(/inet_listener imap \{\n    port = 0\n/);
    expect(conf).toMatch(/inet_listener imaps \{\n    port = 993\n/);
    expect(conf).toMatch(/inet_listener pop3 \{\n    port = 0\n/);
    expect(conf).toMatch(/inet_listener pop3s \{\n    port = 0\n/);
    expect(container(json, 'mailstack-dovecot').ports).toEqual([{ internal: 993, external: 2993, ip: '0.0.0.0', protocol: 'tcp' }]);
  });

  it('runs every reading service by default', () => {
    const conf = uploadsOf(synthYaml(BASE_YAML).json, 'dovecot')['/etc/dovecot/dovecot.conf'].text!;
    expect(conf).toContain('protocols = imap pop3 lmtp\n');
    for (const port of [143, 993, 110, 995]) expect(conf).toContain(`port = ${port}\n`);
  });

  it('refuses a published port for a service that is off', () => {
    expect(() => synthYaml(`${BASE_YAML}protocols: [pop3s]\n`)).toThrow('ports.imaps: 2993 is given but imaps is not in protocols (pop3s)');
  });
});

describe('ipv6', () => {
  it('publishes every port on [::] as well when bound to all IPv4 addresses', () => {
    const { json } = synthYaml(`${BASE_YAML}ipv6: true\n`);
    expect(container(json, 'mailstack-postfix').ports).toEqual([
      { internal: 25, external: 2525, ip: '0.0.0.0', protocol: 'tcp' },
      { internal: 25, external: 2525, ip: '::', protocol: 'tcp' },
      { internal: 587, external: 2587, ip: '0.0.0.0', protocol: 'tcp' },
      { internal: 587, external: 2587, ip: '::', protocol: 'tcp' },
    ]);
    // Through Docker's proxy postfix itself still only sees IPv4.
    expect(uploadsOf(json, 'postfix')['/etc/postfix/main.cf'].text).toContain('inet_protocols = ipv4\n');
  });

  it('binds the IPv6 loopback beside the IPv4 one, and keeps any other address as it is', () => {
    const loopback = synthYaml(`${BASE_YAML}ipv6: true\ndocker: { bindAddress: 127.0.0.1 }\n`).json;
    expect(container(loopback, 'mailstack-dovecot').ports).toEqual([
      { internal: 993, external: 2993, ip: '127.0.0.1', protocol: 'tcp' },
      { internal: 993, external: 2993, ip: '::1', protocol: 'tcp' },
    ]);
    const other = synthYaml(`${BASE_YAML}ipv6: true\ndocker: { bindAddress: 192.0.2.10 }\n`).json;
    expect(container(other, 'mailstack-dovecot').ports).toEqual([{ internal: 993, external: 2993, ip: '192.0.2.10', protocol: 'tcp' }]);
  });
});

describe('postfix in the host network', () => {
  // GIVEN relay by network, which needs the clients' real addresses
  const { json } = synthYaml(`${BASE_YAML.replace('ports: { smtp: 2525,', 'ports: { extraSmtp: [10025], smtp: 2525,')}relay: { networks: [10.1.15.0/24, "fd00:1::/64"] }
ipv6: true
docker: { hostNetwork: true, bindAddress: 192.0.2.10 }
`);
  const postfix = container(json, 'mailstack-postfix');
  const mainCf = uploadsOf(json, 'postfix')['/etc/postfix/main.cf'].text!;
  const masterCf = uploadsOf(json, 'postfix')['/etc/postfix/master.cf'].text!;

  it('runs the container in the host network stack, publishing nothing and with no hostname of its own', () => {
    expect(postfix.network_mode).toBe('host');
    expect(postfix.ports).toBeUndefined();
    expect(postfix.networks_advanced).toBeUndefined();
    expect(postfix.hostname).toBeUndefined();
    expect(postfix.env).toEqual(['MAILSTACK_SMTP_PROBE=192.0.2.10:2525']);
    // dovecot stays in the stack's own network
    expect(container(json, 'mailstack-dovecot').network_mode).toBeUndefined();
  });

  it('listens on the host ports at the bind address, and not on services left unpublished', () => {
    expect(masterCf).toMatch(/^192\.0\.2\.10:2525 inet .* smtpd$/m);
    expect(masterCf).toMatch(/^192\.0\.2\.10:2587 inet .* smtpd\n  -o syslog_name=postfix\/submission\n/m);
    expect(masterCf).toMatch(/^192\.0\.2\.10:10025 inet .* smtpd\n  -o syslog_name=postfix\/smtp-10025\n/m);
    expect(masterCf).not.toMatch(/^(smtp|submission|submissions) +inet/m);
    expect(masterCf).not.toContain('smtpd_tls_wrappermode=yes');
  });

  it('trusts only relay.networks, not the host\'s loopback, and speaks IPv6', () => {
    expect(mainCf).toContain('mynetworks = 10.1.15.0/24 [fd00:1::]/64\n');
    expect(mainCf).toContain('inet_protocols = all\n');
  });
});

describe('who may send as whom, and per-client limits', () => {
  const { json } = synthYaml(`${BASE_YAML.replace(
    'mailboxes:\n',
    `mailboxes:
  - address: bob@example.test
    passwordHash: "{SHA512-CRYPT}$6$G379Mwf3zgyfW.7A$bHUdNfm4gudV5ZWPaHUgZViATTlewopiy41tGiuPy68gRZNPvPefRN18xs761vuORcBMqvlMmrsywYZ3yKZYR0"
`,
  ).replace(
    'aliases:\n',
    `aliases:
  team@example.test: [alice@example.test, bob@example.test, friend@outside.test]
  all@example.test: [team@example.test]
  outside@example.test: friend@outside.test
  "@example.test": bob@example.test
`,
  )}limits: { clientAuthAttemptsPerMinute: 3, clientMessagesPerMinute: 0 }\n`);
  const postfix = uploadsOf(json, 'postfix');

  it('lets a login send as its mailbox and the aliases that reach it, through other aliases and catch-alls too', () => {
    expect(postfix['/etc/postfix/directory/sender_login_maps'].text!.split('\n').filter((l) => !l.startsWith('#'))).toEqual([
      '@example.test bob@example.test',
      'alice@example.test alice@example.test',
      'all@example.test alice@example.test, bob@example.test',
      'bob@example.test bob@example.test',
      'postmaster@example.test alice@example.test',
      'team@example.test alice@example.test, bob@example.test',
      '',
    ]);
    // Only where AUTH is on: on 25 postfix would warn about it on every connection.
    expect(postfix['/etc/postfix/main.cf'].text).not.toContain('smtpd_sender_restrictions');
    expect(postfix['/etc/postfix/master.cf'].text!.match(/-o smtpd_sender_restrictions=reject_authenticated_sender_login_mismatch\n/g)).toHaveLength(2);
  });

  it("follows an alias into another domain's catch-all, as postfix delivers it", () => {
    const { json: other } = synthYaml(
      BASE_YAML.replace('domains: [example.test]', 'domains: [example.test, other.test]').replace(
        'aliases:\n',
        'aliases:\n  sales@example.test: info@other.test\n  "@other.test": alice@example.test\n',
      ),
    );
    expect(uploadsOf(other, 'postfix')['/etc/postfix/directory/sender_login_maps'].text).toContain('sales@example.test alice@example.test\n');
  });

  it('renders the anvil limits, defaults for the ones not given', () => {
    const mainCf = postfix['/etc/postfix/main.cf'].text!;
    expect(mainCf).toContain('smtpd_client_connection_rate_limit = 60\n');
    expect(mainCf).toContain('smtpd_client_connection_count_limit = 20\n');
    expect(mainCf).toContain('smtpd_client_message_rate_limit = 0\n');
    expect(mainCf).toContain('smtpd_client_auth_rate_limit = 3\n');
  });
});

describe("postfix's own notices", () => {
  it('go to the first domain\'s postmaster, a real mailbox or alias', () => {
    const mainCf = uploadsOf(synthYaml(BASE_YAML).json, 'postfix')['/etc/postfix/main.cf'].text!;
    for (const key of ['bounce_notice_recipient', '2bounce_notice_recipient', 'delay_notice_recipient', 'error_notice_recipient']) {
      expect(mainCf).toContain(`${key} = postmaster@example.test\n`);
    }
  });
});
