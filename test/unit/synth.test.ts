/** What the stack declares, read from the synthesized Terraform JSON. */
import { Container } from '@cdktf/provider-docker/lib/container';
import { Image } from '@cdktf/provider-docker/lib/image';
import { Network } from '@cdktf/provider-docker/lib/network';
import { Volume } from '@cdktf/provider-docker/lib/volume';
import { PrivateKey } from '@cdktf/provider-tls/lib/private-key';
import { SelfSignedCert } from '@cdktf/provider-tls/lib/self-signed-cert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashContext } from '../../constructs/mail-image';
import { terraformLiteral } from '../../constructs/terraform-literal';
import { BASE_YAML, synthYaml, uploadsOf } from '../support/synth';

describe('the stack from a config file', () => {
  const { text, json } = synthYaml(BASE_YAML);

  it('declares postfix, dovecot, opendkim and directory containers, their images, the network, five volumes and a self-signed certificate', () => {
    expect(text).toHaveResourceWithProperties(Container, { name: 'mailstack-postfix' });
    expect(text).toHaveResourceWithProperties(Container, { name: 'mailstack-dovecot' });
    expect(text).toHaveResourceWithProperties(Container, { name: 'mailstack-directory' });
    expect(text).toHaveResourceWithProperties(Network, { name: 'mailstack-net' });
    for (const name of ['mailstack-mail', 'mailstack-queue', 'mailstack-sockets', 'mailstack-directory-postfix', 'mailstack-directory-dovecot']) expect(text).toHaveResourceWithProperties(Volume, { name });
    expect(text).toHaveResourceWithProperties(PrivateKey, { algorithm: 'ECDSA', ecdsa_curve: 'P256' });
    expect(text).toHaveResourceWithProperties(SelfSignedCert, { dns_names: ['mail.example.test'], subject: [{ common_name: 'mail.example.test' }] });
    expect(text).toHaveResourceWithProperties(Container, { name: 'mailstack-opendkim' });
    expect(Object.keys(json.resource.docker_container)).toHaveLength(4);
    // The directory container runs on the dovecot image.
    expect(Object.keys(json.resource.docker_image)).toHaveLength(3);
  });

  it('takes a host name over 64 characters: no CN in the certificate, the first label as the containers\' kernel host name', () => {
    const long = `mail.${'a'.repeat(60)}.example.test`;
    const { json: longJson } = synthYaml(BASE_YAML.replace('hostname: mail.example.test', `hostname: ${long}`));
    const cert = Object.values(longJson.resource.tls_self_signed_cert)[0];
    expect(cert.dns_names).toEqual([long]);
    expect(cert.subject).toBeUndefined();
    for (const c of Object.values(longJson.resource.docker_container)) if (c.name !== 'mailstack-directory') expect(c.hostname).toBe('mail');
  });

  it('keeps the mail and queue volumes from being destroyed, but not the socket volume', () => {
    const volumes = Object.values(json.resource.docker_volume);
    const lifecycleOf = (name: string) => volumes.find((v) => v.name === name)?.lifecycle;
    expect(lifecycleOf('mailstack-mail')).toEqual({ prevent_destroy: true });
    expect(lifecycleOf('mailstack-queue')).toEqual({ prevent_destroy: true });
    expect(lifecycleOf('mailstack-sockets')).toBeUndefined();
  });

  it('runs containers from the image id (a name:tag would replace them on every apply)', () => {
    for (const c of Object.values(json.resource.docker_container)) expect(c.image).toMatch(/^\$\{docker_image\.\w+\.image_id\}$/);
  });

  it('builds each image from its context copied next to the stack, tagged by a hash of that context', () => {
    expect(text).toHaveResourceWithProperties(Image, { keep_locally: true });
    for (const image of Object.values(json.resource.docker_image)) {
      expect(image).toMatchObject({ build: { build_args: { BASE_IMAGE: 'debian:bookworm-slim' } } });
      const [name, tag] = String(image.name).split(':');
      expect(name).toMatch(/^mailstack-(postfix|dovecot|opendkim)$/);
      expect(tag).toMatch(/^[0-9a-f]{16}$/);
      expect((image.build as { context: string }).context).toMatch(new RegExp(`^assets/MailServer_\\w+_Image_Context_[0-9A-F]+/${tag}$`));
    }
  });

  it('changes an image tag when, and only when, its context or base image changes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mailstack-ctx-'));
    writeFileSync(join(dir, 'Dockerfile'), 'FROM x\n');
    const before = hashContext(dir, 'debian:bookworm-slim');
    expect(hashContext(dir, 'debian:bookworm-slim')).toBe(before);
    expect(hashContext(dir, 'debian:trixie-slim')).not.toBe(before);
    writeFileSync(join(dir, 'Dockerfile'), 'FROM y\n');
    expect(hashContext(dir, 'debian:bookworm-slim')).not.toBe(before);
  });

  it('publishes only the configured ports, on the bind address, to the standard container ports', () => {
    expect(text).toHaveResourceWithProperties(Container, {
      name: 'mailstack-postfix',
      ports: [
        { internal: 25, external: 2525, ip: '0.0.0.0', protocol: 'tcp' },
        { internal: 587, external: 2587, ip: '0.0.0.0', protocol: 'tcp' },
      ],
    });
    expect(text).toHaveResourceWithProperties(Container, {
      name: 'mailstack-dovecot',
      ports: [{ internal: 993, external: 2993, ip: '0.0.0.0', protocol: 'tcp' }],
    });
  });

  it('shares the socket volume between the two, gives each its own stateful volume and its directory volume, read-only', () => {
    const mounts = (service: string) =>
      (Object.values(json.resource.docker_container).find((c) => c.name === `mailstack-${service}`)!.volumes as { container_path: string; volume_name: string; read_only?: boolean }[]).map(
        (v) => `${v.volume_name.split('.')[1].replace(/_[0-9A-F]+$/, '')}:${v.container_path}${v.read_only ? ':ro' : ''}`,
      );
    expect(mounts('postfix')).toEqual([
      'MailServer_Volumes_Queue:/var/spool/postfix',
      'MailServer_Volumes_Sockets:/var/spool/postfix/private/mailstack',
      'MailServer_Volumes_DirectoryPostfix:/etc/postfix/directory:ro',
    ]);
    expect(mounts('dovecot')).toEqual(['MailServer_Volumes_Mail:/var/mail', 'MailServer_Volumes_Sockets:/run/mailstack/sockets', 'MailServer_Volumes_DirectoryDovecot:/etc/dovecot/directory:ro']);
    // It writes both directory volumes, and reads postfix's acknowledgement on the socket volume.
    expect(mounts('directory')).toEqual([
      'MailServer_Volumes_DirectoryPostfix:/var/lib/mailstack/directory/postfix',
      'MailServer_Volumes_DirectoryDovecot:/var/lib/mailstack/directory/dovecot',
      'MailServer_Volumes_Sockets:/run/mailstack/sockets:ro',
    ]);
  });

  it('waits for healthy containers, restarts them unless stopped, and starts the daemons after the directory, postfix after dovecot and opendkim', () => {
    const container = (name: string) => Object.values(json.resource.docker_container).find((c) => c.name === `mailstack-${name}`)!;
    expect(container('postfix')).toMatchObject({ wait: true, must_run: true, restart: 'unless-stopped', healthcheck: { test: ['CMD', '/usr/local/bin/healthcheck.sh'] } });
    expect(container('postfix').depends_on).toEqual([
      expect.stringMatching(/^docker_container\.MailServer_Directory_/),
      expect.stringMatching(/^docker_container\.MailServer_Dovecot_/),
      expect.stringMatching(/^docker_container\.MailServer_Dkim_/),
    ]);
    expect(container('dovecot').depends_on).toEqual([expect.stringMatching(/^docker_container\.MailServer_Directory_/)]);
    expect(container('directory')).toMatchObject({
      wait: true,
      must_run: true,
      restart: 'unless-stopped',
      network_mode: 'none',
      entrypoint: ['/usr/local/bin/directory.sh'],
      command: ['serve'],
      healthcheck: { test: ['CMD', '/usr/local/bin/directory.sh', 'check'] },
      image: container('dovecot').image,
    });
  });

  it('uploads the rendered configuration, the certificate and the key (mode 0600) into each container', () => {
    // The mail directory is uploaded into the directory container alone (the passwd-file readable by root only there).
    expect(Object.entries(uploadsOf(json, 'directory')).map(([path, f]) => `${path} ${f.permissions}`).sort()).toEqual([
      '/etc/mailstack/directory/dovecot/users 0600',
      '/etc/mailstack/directory/postfix/sender_login_maps 0644',
      '/etc/mailstack/directory/postfix/virtual_alias_maps 0644',
      '/etc/mailstack/directory/postfix/virtual_mailbox_domains 0644',
      '/etc/mailstack/directory/postfix/virtual_mailbox_maps 0644',
    ]);
    const postfix = uploadsOf(json, 'postfix');
    expect(Object.keys(postfix).sort()).toEqual([
      '/etc/mailstack/tls/fullchain.pem',
      '/etc/mailstack/tls/privkey.pem',
      '/etc/postfix/directory/sender_login_maps',
      '/etc/postfix/directory/virtual_alias_maps',
      '/etc/postfix/directory/virtual_mailbox_domains',
      '/etc/postfix/directory/virtual_mailbox_maps',
      '/etc/postfix/main.cf',
      '/etc/postfix/master.cf',
    ]);
    expect(postfix['/etc/mailstack/tls/privkey.pem']).toMatchObject({ content: expect.stringMatching(/^\$\{tls_private_key\.\w+\.private_key_pem\}$/), permissions: '0600' });
    expect(postfix['/etc/postfix/main.cf'].content).toContain('myhostname = mail.example.test\n');
    const dovecot = uploadsOf(json, 'dovecot');
    expect(Object.keys(dovecot).sort()).toEqual(['/etc/dovecot/directory/users', '/etc/dovecot/dovecot.conf', '/etc/mailstack/tls/fullchain.pem', '/etc/mailstack/tls/privkey.pem']);
    expect(dovecot['/etc/dovecot/directory/users']).toMatchObject({ content: expect.stringMatching(/^alice@example\.test:\{SHA512-CRYPT\}\$6\$/) });
  });
});

describe('extra SMTP ports and the recipient delimiter', () => {
  it('adds an smtpd listener per extra port, published on the same number, and renders the delimiter', () => {
    const { json } = synthYaml(`${BASE_YAML.replace('ports: { smtp: 2525,', 'ports: { extraSmtp: [10025], smtp: 2525,')}recipientDelimiter: "-"\n`);
    const postfix = Object.values(json.resource.docker_container).find((c) => c.name === 'mailstack-postfix')!;
    expect(postfix.ports).toContainEqual({ internal: 10025, external: 10025, ip: '0.0.0.0', protocol: 'tcp' });
    const uploads = uploadsOf(json, 'postfix');
    expect(uploads['/etc/postfix/master.cf'].text).toContain('10025      inet  n       -       n       -       -       smtpd\n  -o syslog_name=postfix/smtp-10025\n');
    expect(uploads['/etc/postfix/main.cf'].text).toContain('recipient_delimiter = -\n');
    expect(uploadsOf(json, 'dovecot')['/etc/dovecot/dovecot.conf'].text).toContain('recipient_delimiter = -\n');
  });
});

describe('client settings', () => {
  const { json } = synthYaml(BASE_YAML.replace('ports: { smtp: 2525, submission: 2587, imaps: 2993 }', 'ports: { smtp: 25, submission: 587, imaps: 993, pop3: 110 }'));
  const output = (name: string) => (json.output![name] as { value: unknown }).value;

  it('gives what a user types into a mail client, for the published client services only', () => {
    expect(output('client_settings')).toEqual([
      { service: 'imaps', direction: 'incoming', host: 'mail.example.test', port: 993, security: 'TLS', authentication: ['PLAIN', 'LOGIN'], username: 'the full email address' },
      { service: 'pop3', direction: 'incoming', host: 'mail.example.test', port: 110, security: 'STARTTLS', authentication: ['PLAIN', 'LOGIN'], username: 'the full email address' },
      { service: 'submission', direction: 'outgoing', host: 'mail.example.test', port: 587, security: 'STARTTLS', authentication: ['PLAIN', 'LOGIN'], username: 'the full email address' },
    ]);
  });

  it('gives a Thunderbird autoconfig document with the same servers', () => {
    const xml = String(output('autoconfig_xml'));
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<clientConfig version="1.1">')).toBe(true);
    expect(xml).toContain('<domain>example.test</domain>');
    expect(xml).toMatch(/<incomingServer type="imap">\s*<hostname>mail\.example\.test<\/hostname>\s*<port>993<\/port>\s*<socketType>SSL<\/socketType>/);
    expect(xml).toMatch(/<incomingServer type="pop3">\s*<hostname>mail\.example\.test<\/hostname>\s*<port>110<\/port>\s*<socketType>STARTTLS<\/socketType>/);
    expect(xml).toMatch(/<outgoingServer type="smtp">\s*<hostname>mail\.example\.test<\/hostname>\s*<port>587<\/port>\s*<socketType>STARTTLS<\/socketType>/);
    // Every element that opens closes: a well-formedness check without an XML library.
    const tags = [...xml.matchAll(/<(\/?)([A-Za-z]+)[^>]*?(\/?)>/g)].filter((m) => m[3] !== '/');
    const stack: string[] = [];
    for (const [, closing, name] of tags) {
      if (closing) expect(stack.pop()).toBe(name);
      else stack.push(name);
    }
    expect(stack).toEqual([]);
  });
});

describe('file content in Terraform JSON', () => {
  it('escapes ${ so Terraform keeps postfix\'s own $-expansions literal', () => {
    const { json } = synthYaml(BASE_YAML);
    const mainCf = uploadsOf(json, 'postfix')['/etc/postfix/main.cf'];
    expect(mainCf.content).toContain('btree:$${data_directory}/smtpd_scache');
    expect(mainCf.text).toContain('btree:${data_directory}/smtpd_scache');
    expect(terraformLiteral('a ${b} %{c} $d')).toBe('a $${b} %%{c} $d');
  });
});

describe('names', () => {
  it('prefixes every container, volume, network and image with docker.namePrefix', () => {
    const { json } = synthYaml(`${BASE_YAML}docker: { namePrefix: shop-mail }\n`);
    const names = ['docker_container', 'docker_volume', 'docker_network', 'docker_image'].flatMap((t) => Object.values(json.resource[t]).map((r) => String(r.name)));
    expect(names).toHaveLength(4 + 5 + 1 + 3);
    for (const n of names) expect(n.startsWith('shop-mail-')).toBe(true);
  });

  it('keeps construct ids (and so Terraform addresses) of the stateful volumes stable', () => {
    const { json } = synthYaml(BASE_YAML);
    expect(Object.keys(json.resource.docker_volume).sort()).toEqual([
      expect.stringMatching(/^MailServer_Volumes_DirectoryDovecot_[0-9A-F]{8}$/),
      expect.stringMatching(/^MailServer_Volumes_DirectoryPostfix_[0-9A-F]{8}$/),
      'MailServer_Volumes_Mail_8EEEFACE',
      'MailServer_Volumes_Queue_59A9BB8C',
      'MailServer_Volumes_Sockets_80892562',
    ]);
  });
});

describe('a certificate the operator brings', () => {
  it('is read by Terraform with file(), the key kept sensitive, and no certificate is generated', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mailstack-tls-'));
    writeFileSync(join(dir, 'cert.pem'), 'CERT');
    writeFileSync(join(dir, 'key.pem'), 'KEY');
    const { text, json } = synthYaml(`${BASE_YAML}tls: { certFile: cert.pem, keyFile: key.pem }\n`, { baseDir: dir });
    const uploads = uploadsOf(json, 'postfix');
    expect(uploads['/etc/mailstack/tls/fullchain.pem'].content).toBe(`\${file("${dir}/cert.pem")}`);
    expect(uploads['/etc/mailstack/tls/privkey.pem'].content).toBe(`\${sensitive(file("${dir}/key.pem"))}`);
    expect(text).not.toHaveResourceWithProperties(PrivateKey, { algorithm: 'ECDSA' });
    expect(text).not.toHaveResource(SelfSignedCert);
  });
});

describe('determinism and secrets', () => {
  const yaml = `${BASE_YAML.replace('aliases:', `  - address: bob@example.test\n    passwordEnv: BOB_PASSWORD\naliases:`)}`;
  const env = { BOB_PASSWORD: 'Tr0ub4dor&3-clear-text' };

  it('gives byte-identical output from the same input', () => {
    expect(synthYaml(yaml, { env }).text).toBe(synthYaml(yaml, { env }).text);
  });

  it('gives the same output whatever the order of mailboxes, domains and aliases in the file', () => {
    const reordered = `
hostname: mail.example.test
domains: [example.org, example.test]
aliases:
  team@example.test: [bob@example.org, alice@example.test]
  postmaster@example.test: alice@example.test
  postmaster@example.org: bob@example.org
mailboxes:
  - address: bob@example.org
    passwordHash: "{SHA512-CRYPT}$6$abc$def"
  - address: alice@example.test
    passwordHash: "{SHA512-CRYPT}$6$ghi$jkl"
`;
    const ordered = `
hostname: mail.example.test
domains: [example.org, example.test]
mailboxes:
  - address: alice@example.test
    passwordHash: "{SHA512-CRYPT}$6$ghi$jkl"
  - address: bob@example.org
    passwordHash: "{SHA512-CRYPT}$6$abc$def"
aliases:
  postmaster@example.org: bob@example.org
  postmaster@example.test: alice@example.test
  team@example.test: [alice@example.test, bob@example.org]
`;
    const uploads = (y: string) => JSON.stringify([uploadsOf(synthYaml(y).json, 'postfix'), uploadsOf(synthYaml(y).json, 'dovecot')]);
    expect(uploads(reordered)).toBe(uploads(ordered));
  });

  it('never contains a clear-text password, only its hash', () => {
    const { text, json } = synthYaml(yaml, { env });
    expect(text).not.toContain(env.BOB_PASSWORD);
    expect(uploadsOf(json, 'dovecot')['/etc/dovecot/directory/users'].content).toMatch(/^bob@example\.test:\{SHA512-CRYPT\}\$6\$[./0-9A-Za-z]{16}\$/m);
  });
});
