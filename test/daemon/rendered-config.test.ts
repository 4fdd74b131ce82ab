/**
 * The configuration the stack uploads, checked by the real daemons in the
 * real images: the entrypoint's own checks (postconf -n, postfix check,
 * doveconf -n must pass with no warning), then lookups through the maps and
 * the passwd-file as postfix and dovecot perform them.
 */
import { parseTemplate } from '../../applier/expressions';
import { generatePrivateKey } from '../../applier/resources/tls';
import { DIRECTORY_PUBLISH_DIR, DOVECOT_DIRECTORY_DIR, POSTFIX_DIRECTORY_DIR, TLS_CERT_FILE, TLS_KEY_FILE } from '../../render/layout';
import { ensureImage, FileToPut, runInImage } from '../support/docker';
import { BASE_YAML, synthYaml, UploadedFile, uploadsOf, uploadsOfContainer } from '../support/synth';
import { selfSignedCertificate, TestCertificate } from '../support/tls';

jest.setTimeout(15 * 60_000);

const MAXIMAL_YAML = `
hostname: mx1.mail.example.test
domains: [example.test, example.org, lists.example.net]
mailboxes:
  - address: alice@example.test
    passwordHash: "{SHA512-CRYPT}$6$G379Mwf3zgyfW.7A$bHUdNfm4gudV5ZWPaHUgZViATTlewopiy41tGiuPy68gRZNPvPefRN18xs761vuORcBMqvlMmrsywYZ3yKZYR0"
    quotaBytes: 1048576
  - address: bob@example.org
    passwordEnv: BOB_PASSWORD
  - address: carol.smith@lists.example.net
    passwordHash: "{BLF-CRYPT}$2y$05$zdrxIapkLRnF8DLMuRDSDOqvrDTbAPfOvWmP4KXThMMKUHNJ5RpJ2"
aliases:
  postmaster@example.test: alice@example.test
  postmaster@example.org: [alice@example.test, bob@example.org]
  "@lists.example.net": carol.smith@lists.example.net
  team@example.test: [alice@example.test, bob@example.org, friend@elsewhere.test]
relay:
  networks: [10.1.15.0/24, 192.168.0.0/16, "2001:db8::/32"]
limits:
  messageSizeBytes: 10485760
  mailboxSizeBytes: 2097152
ports: { smtp: 25, submission: 587, submissions: 465, imap: 143, imaps: 993, pop3: 110, pop3s: 995, extraSmtp: [10025] }
ipv6: true
docker:
  namePrefix: maximal
  hostNetwork: true
`;

/** Only IMAP over implicit TLS: the other reading listeners closed. */
const IMAPS_ONLY_YAML = `${BASE_YAML}protocols: [imaps]\n`;

let postfixImage: string;
let dovecotImage: string;
let cert: TestCertificate;

beforeAll(async () => {
  [postfixImage, dovecotImage] = [await ensureImage('postfix'), await ensureImage('dovecot')];
  cert = await selfSignedCertificate('mail.example.test');
});

/**
 * The uploads with the certificate (a Terraform reference at synth) replaced by
 * a real one, and the mail directory: for postfix its maps as published (and a
 * serial); for dovecot the directory container's uploads, which `checked`
 * publishes with the image's own directory.sh.
 */
function filesFor(yaml: string, service: 'postfix' | 'dovecot', env: Record<string, string> = {}): Record<string, FileToPut> {
  const { json } = synthYaml(yaml, { env });
  const files: Record<string, FileToPut> = {};
  const put = (uploads: Record<string, UploadedFile>) => {
    for (const [path, f] of Object.entries(uploads)) if (f.text !== undefined) files[path] = { content: f.text, mode: parseInt(f.permissions ?? '0644', 8) };
  };
  if (service === 'postfix') {
    put(uploadsOf(json, 'postfix'));
    files[`${POSTFIX_DIRECTORY_DIR}/serial`] = { content: 'published by the test\n' };
  } else {
    put(uploadsOfContainer(json, 'dovecot'));
    put(uploadsOfContainer(json, 'directory'));
  }
  files[TLS_CERT_FILE] = { content: cert.certificatePem };
  files[TLS_KEY_FILE] = { content: cert.privateKeyPem, mode: 0o600 };
  return files;
}

/** Publishes the mail directory as the directory container does, where dovecot reads it (one volume in a stack). */
const PUBLISH_DIRECTORY = `/usr/local/bin/directory.sh publish >/dev/null && cp -a ${DIRECTORY_PUBLISH_DIR}/dovecot/. ${DOVECOT_DIRECTORY_DIR}/`;

/** Runs the image's entrypoint (its checks), then `cmd`; in dovecot's image, after publishing the directory. */
const started = (image: string, cmd: string[], files: Record<string, FileToPut>) =>
  image === dovecotImage ? runInImage(image, cmd, files, ['bash', '-c', `${PUBLISH_DIRECTORY} && exec /usr/local/bin/entrypoint.sh "$@"`, 'entrypoint']) : runInImage(image, cmd, files);

/** Runs the image's entrypoint (its checks) and then `script` in bash. */
const checked = (image: string, files: Record<string, FileToPut>, script: string) => started(image, ['bash', '-euo', 'pipefail', '-c', script], files);

describe.each([
  ['the shipped example', BASE_YAML],
  ['a maximal config', MAXIMAL_YAML],
])('postfix accepts the rendered configuration of %s', (_name, yaml) => {
  it('passes the entrypoint checks with no warning and reports the rendered settings', async () => {
    // WHEN the image's entrypoint checks the uploaded files and we ask postconf
    const r = await checked(postfixImage, filesFor(yaml, 'postfix', { BOB_PASSWORD: 'b0b' }), 'postconf -n; postconf -M');
    // THEN nothing is rejected or warned about
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination$/m);
    expect(r.stdout).toMatch(/^virtual_transport = lmtp:unix:private\/mailstack\/lmtp$/m);
    // In the host network (the maximal config) the listeners are named by their host ports.
    const [submission, submissions] = yaml === MAXIMAL_YAML ? ['587', '465'] : ['submission', 'submissions'];
    expect(r.stdout).toMatch(new RegExp(`^${submission} +inet .*smtpd_tls_security_level=encrypt`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^${submissions} +inet .*smtpd_tls_wrappermode=yes`, 'm'));
    expect(r.stdout).toMatch(/^smtpd_recipient_restrictions = .*check_policy_service \{ unix:private\/mailstack\/quota-status, default_action=DUNNO \}$/m);
    if (yaml === MAXIMAL_YAML) {
      expect(r.stdout).toMatch(/^10025 +inet +n +- +n +- +- +smtpd -o syslog_name=postfix\/smtp-10025$/m);
      expect(r.stdout).toMatch(/^inet_protocols = all$/m);
    }
  });
});

describe('postfix lookups through the rendered maps', () => {
  it('finds mailboxes, domains and aliases, and nothing else', async () => {
    const r = await checked(
      postfixImage,
      filesFor(MAXIMAL_YAML, 'postfix', { BOB_PASSWORD: 'b0b' }),
      `q() { postmap -q "$1" "texthash:/etc/postfix/directory/$2" || echo "(none)"; }
       echo "mbox:$(q alice@example.test virtual_mailbox_maps)"
       echo "unknown:$(q mallory@example.test virtual_mailbox_maps)"
       echo "domain:$(q example.org virtual_mailbox_domains)"
       echo "otherdomain:$(q elsewhere.test virtual_mailbox_domains)"
       echo "team:$(q team@example.test virtual_alias_maps)"
       echo "catchall:$(q @lists.example.net virtual_alias_maps)"
       echo "self:$(q carol.smith@lists.example.net virtual_alias_maps)"
       echo "networks:$(postconf -h mynetworks)"
       echo "size:$(postconf -h message_size_limit)"`,
    );
    expect(r.exitCode).toBe(0);
    const lines = Object.fromEntries(r.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]));
    expect(lines).toEqual({
      mbox: 'OK',
      unknown: '(none)',
      domain: 'OK',
      otherdomain: '(none)',
      team: 'alice@example.test, bob@example.org, friend@elsewhere.test',
      catchall: 'carol.smith@lists.example.net',
      // a catch-all must not swallow the domain's own mailbox
      self: 'carol.smith@lists.example.net',
      // in the host network the host's loopback is not trusted
      networks: '10.1.15.0/24 192.168.0.0/16 [2001:db8::]/32',
      size: '10485760',
    });
  });
});

describe.each([
  ['the shipped example', BASE_YAML],
  ['a maximal config', MAXIMAL_YAML],
  ['IMAPS only', IMAPS_ONLY_YAML],
])('dovecot accepts the rendered configuration of %s', (_name, yaml) => {
  it('passes the entrypoint checks with no warning and reports the rendered settings', async () => {
    const r = await checked(dovecotImage, filesFor(yaml, 'dovecot', { BOB_PASSWORD: 'b0b' }), 'doveconf -n; echo "min_protocol=$(doveconf -h ssl_min_protocol)"');
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^ssl = required$/m);
    expect(r.stdout).toMatch(/^min_protocol=TLSv1.2$/m);
    expect(r.stdout).toMatch(/^auth_mechanisms = plain login$/m);
    expect(r.stdout).toMatch(/^mail_location = maildir:~\/Maildir$/m);
  });
});

describe('dovecot verifies the passwords the stack declares', () => {
  it('accepts the right password for a given hash and for one hashed from passwordEnv, and refuses wrong ones', async () => {
    const files = filesFor(MAXIMAL_YAML, 'dovecot', { BOB_PASSWORD: 'correct horse battery staple' });
    const r = await checked(
      dovecotImage,
      files,
      `hash() { grep "^$1:" /etc/dovecot/directory/users | cut -d: -f2; }
       t() { if doveadm pw -t "$(hash "$1")" -p "$2" >/dev/null 2>&1; then echo "$1 $3 ok"; else echo "$1 $3 refused"; fi; }
       t alice@example.test alice-secret right
       t alice@example.test wrong wrong
       t bob@example.org 'correct horse battery staple' right
       t bob@example.org 'correct horse' wrong
       stat -c '%U:%G %a' /etc/dovecot/directory/users`,
    );
    expect(r.stdout.trim().split('\n')).toEqual([
      'alice@example.test right ok',
      'alice@example.test wrong refused',
      'bob@example.org right ok',
      'bob@example.org wrong refused',
      'root:dovecot 640',
    ]);
  });

  it('gives each mailbox its quota and Maildir home from the userdb', async () => {
    const r = await checked(
      dovecotImage,
      filesFor(MAXIMAL_YAML, 'dovecot', { BOB_PASSWORD: 'b0b' }),
      // doveadm needs the auth service: start dovecot, ask, stop.
      `dovecot; for i in $(seq 50); do [ -S /run/mailstack/sockets/auth ] && break; sleep 0.1; done
       doveadm user -f home alice@example.test; doveadm user -f quota_rule alice@example.test
       doveadm user -f home carol.smith@lists.example.net; doveadm user -f quota_rule carol.smith@lists.example.net
       doveadm user mallory@example.test >/dev/null 2>&1 || echo "unknown user: $?"
       doveadm auth test alice@example.test alice-secret 2>&1 | head -1
       doveadm stop`,
    );
    expect(r.stdout.trim().split('\n')).toEqual([
      '/var/mail/example.test/alice',
      '*:bytes=1048576',
      '/var/mail/lists.example.net/carol.smith',
      '*:bytes=2097152', // limits.mailboxSizeBytes, carol having no quota of her own
      'unknown user: 67', // EX_NOUSER
      "passdb: alice@example.test auth succeeded",
    ]);
  });
});

describe('opendkim accepts the rendered configuration', () => {
  it('passes its entrypoint checks (opendkim -n) with a real key and signs only for the mail domains', async () => {
    const opendkimImage = await ensureImage('opendkim');
    const { json } = synthYaml(MAXIMAL_YAML, { env: { BOB_PASSWORD: 'b0b' } });
    const container = Object.values(json.resource.docker_container).find((c) => c.name === 'maximal-opendkim')!;
    const files: Record<string, FileToPut> = {};
    for (const u of container.upload as { file: string; content: string; permissions: string }[]) {
      const expr = parseTemplate(u.content);
      // Keys are Terraform references at synth: put real ones in their place.
      const content = expr.kind === 'literal' ? String(expr.value) : generatePrivateKey('RSA', { rsaBits: 2048 }).private_key_pem;
      files[u.file] = { content, mode: parseInt(u.permissions, 8) };
    }
    const r = await runInImage(opendkimImage, ['bash', '-c', 'cat /etc/opendkim/SigningTable; stat -c "%U %a" /etc/opendkim/keys/example.org.private'], files);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([
      // OpenDKIM logs through syslog; the entrypoint's syslogd hands it to the container log.
      expect.stringMatching(/syslogd started/),
      '*@example.org mailstack._domainkey.example.org',
      '*@example.test mailstack._domainkey.example.test',
      '*@lists.example.net mailstack._domainkey.lists.example.net',
      'postfix 600',
    ]);
  });
});

describe('the entrypoints refuse to start on a configuration the daemon rejects', () => {
  it('postfix: a duplicate parameter in main.cf stops the container with the reason on stderr', async () => {
    const files = filesFor(BASE_YAML, 'postfix');
    files['/etc/postfix/main.cf'] = { content: files['/etc/postfix/main.cf'].content + 'myhostname = other.example.test\n' };
    const r = await runInImage(postfixImage, ['postfix', 'start-fg'], files);
    expect(r.exitCode).toBe(78);
    expect(r.stderr).toMatch(/mailstack-postfix: refusing to start: postconf: .*overriding earlier entry: myhostname/);
  });

  it('dovecot: an unknown setting stops the container with the reason on stderr', async () => {
    const files = filesFor(BASE_YAML, 'dovecot');
    files['/etc/dovecot/dovecot.conf'] = { content: files['/etc/dovecot/dovecot.conf'].content + 'no_such_setting = yes\n' };
    const r = await started(dovecotImage, ['dovecot', '-F'], files);
    expect(r.exitCode).toBe(78);
    expect(r.stderr).toMatch(/mailstack-dovecot: refusing to start: doveconf: .*Unknown setting: no_such_setting/);
  });

  it('dovecot: a missing certificate stops the container with the reason on stderr', async () => {
    const files = filesFor(BASE_YAML, 'dovecot');
    delete files[TLS_CERT_FILE];
    const r = await started(dovecotImage, ['dovecot', '-F'], files);
    expect(r.exitCode).toBe(78);
    expect(r.stderr).toMatch(/refusing to start: TLS certificate \/etc\/mailstack\/tls\/fullchain\.pem is missing/);
  });

  it.each(['postfix', 'dovecot'] as const)('%s: a private key that does not match the certificate stops the container', async (service) => {
    const files = filesFor(BASE_YAML, service);
    files[TLS_KEY_FILE] = { content: (await selfSignedCertificate('other.example.test')).privateKeyPem, mode: 0o600 };
    const r = await started(service === 'postfix' ? postfixImage : dovecotImage, service === 'postfix' ? ['postfix', 'start-fg'] : ['dovecot', '-F'], files);
    expect(r.exitCode).toBe(78);
    expect(r.stderr).toMatch(/refusing to start: TLS private key \/etc\/mailstack\/tls\/privkey\.pem does not belong to the certificate/);
  });

  it('postfix: without the published mail directory, it says the directory container publishes it', async () => {
    const files = filesFor(BASE_YAML, 'postfix');
    delete files[`${POSTFIX_DIRECTORY_DIR}/serial`];
    const r = await started(postfixImage, ['postfix', 'start-fg'], files);
    expect(r.exitCode).toBe(78);
    expect(r.stderr).toMatch(/refusing to start: the mail directory is not published in \/etc\/postfix\/directory \(the directory container publishes it\)/);
  });

  it('dovecot: without the published passwd-file, it says the directory container publishes it', async () => {
    const r = await runInImage(dovecotImage, ['dovecot', '-F'], filesFor(BASE_YAML, 'dovecot'));
    expect(r.exitCode).toBe(78);
    expect(r.stderr).toMatch(/refusing to start: the passwd-file \/etc\/dovecot\/directory\/users is not published \(the directory container publishes it\)/);
  });
});
