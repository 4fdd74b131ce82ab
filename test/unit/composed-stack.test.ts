/** The shipped example of MailServer inside someone else's stack, and the construct's own contract. */
import { Container } from '@cdktf/provider-docker/lib/container';
import { Testing, TerraformStack } from 'cdktf';
import { CompanyStack } from '../../examples/composed-stack';
import { MailServer } from '../../constructs';

const HASH = '{SHA512-CRYPT}$6$G379Mwf3zgyfW.7A$bHUdNfm4gudV5ZWPaHUgZViATTlewopiy41tGiuPy68gRZNPvPefRN18xs761vuORcBMqvlMmrsywYZ3yKZYR0';

describe('examples/composed-stack.ts', () => {
  const stack = new CompanyStack(Testing.app(), 'company', { passwords: { 'ana@company.test': 'ana-pw', 'ops@company.test': 'ops-pw' } });
  const text = Testing.synth(stack);

  it('synthesizes the operator\'s own resources beside the mail system', () => {
    expect(text).toHaveResourceWithProperties(Container, { name: 'company-web' });
    expect(text).toHaveResourceWithProperties(Container, { name: 'company-mail-postfix' });
    expect(text).toHaveResourceWithProperties(Container, { name: 'company-mail-dovecot' });
  });

  it('declares mailboxes and aliases added in code, with hashed passwords only', () => {
    expect(text).not.toContain('ana-pw');
    expect(text).toMatch(/ana@company\.test:\{SHA512-CRYPT\}\$6\$/);
    expect(text).toContain('sales@company.test ana@company.test, ops@company.test');
    expect(text).toContain('10.1.15.0/24');
  });

  it('runs postfix in the host network for relay by network, listening on the host ports itself', () => {
    const postfix = Object.values(JSON.parse(text).resource.docker_container as Record<string, Record<string, unknown>>).find((c) => c.name === 'company-mail-postfix')!;
    expect(postfix.network_mode).toBe('host');
    expect(postfix.ports).toBeUndefined();
    expect(postfix.networks_advanced).toBeUndefined();
    expect(postfix.env).toEqual(['MAILSTACK_SMTP_PROBE=127.0.0.1:25']);
  });
});

describe('MailServer', () => {
  const newServer = (props: Partial<ConstructorParameters<typeof MailServer>[2]> = {}) => {
    const stack = new TerraformStack(Testing.app(), 'test');
    return { stack, mail: new MailServer(stack, 'Mail', { hostname: 'mail.example.test', domains: ['example.test'], ...props }) };
  };

  it('throws at construction on a value that could not be configured, naming it', () => {
    expect(() => newServer({ hostname: 'mail' })).toThrow('hostname "mail" is not a fully qualified domain name');
    expect(() => newServer({ relayNetworks: ['0.0.0.0/0'], hostNetwork: true })).toThrow('relay network "0.0.0.0/0" would let the whole Internet relay');
    expect(() => newServer({ relayNetworks: ['10.1.15.0/24'] })).toThrow('relayNetworks needs hostNetwork');
    expect(() => newServer({ protocols: ['imaps'], ports: { pop3s: 995 } })).toThrow('port 995 of pop3s is given but pop3s is not in protocols');
    expect(() => newServer({ protocols: ['imap4' as never] })).toThrow('protocol "imap4" is not one of imap, imaps, pop3, pop3s');
    expect(() => newServer({ mailboxSizeBytes: -5 })).toThrow('mailboxSizeBytes -5 is not a whole number of bytes');
    expect(() => newServer({ hostNetwork: true, ports: { submissions: 465 } })).toThrow('postfix in the host network needs a smtp, submission or extra SMTP port');
    expect(() => newServer({ namePrefix: 'Bad/Prefix' })).toThrow('namePrefix "Bad/Prefix" is not a name prefix');
    expect(() => newServer({ messageSizeBytes: 10 })).toThrow('messageSizeBytes 10 is not a whole number of at least 1024');
    expect(() => newServer({ ports: { smtp: 70000 } })).toThrow('port 70000 of smtp is not a TCP port');
  });

  it('refuses duplicate and malformed entries in add* methods', () => {
    const { mail } = newServer();
    mail.addMailbox({ address: 'alice@example.test', passwordHash: HASH });
    expect(() => mail.addMailbox({ address: 'Alice@example.test', passwordHash: HASH })).toThrow('mailbox "alice@example.test" is already added');
    expect(() => mail.addMailbox({ address: 'bob@example.test', passwordHash: '{PLAIN}secret' })).toThrow('uses scheme {PLAIN}, which is not accepted');
    expect(() => mail.addDomain('example.test')).toThrow('domain "example.test" is already added');
    expect(() => mail.addAlias('x@example.test\nmydestination = evil', 'alice@example.test')).toThrow('is not an email address');
  });

  it('fails synthesis on a directory that does not hold together, with every problem', () => {
    const { stack, mail } = newServer();
    mail.addMailbox({ address: 'alice@elsewhere.test', passwordHash: HASH });
    mail.addAlias('info@example.test', 'nobody@example.test');
    expect(() => Testing.synth(stack, true)).toThrow(/alice@elsewhere\.test" is not in any of the mail domains[\s\S]*points to "nobody@example\.test"[\s\S]*has no postmaster@example\.test/);
  });

  it('sees mailboxes added after construction in the rendered files', () => {
    const { stack, mail } = newServer();
    mail.addMailbox({ address: 'alice@example.test', passwordHash: HASH });
    mail.addAlias('postmaster@example.test', 'alice@example.test');
    mail.addMailbox({ address: 'late@example.test', passwordHash: HASH });
    expect(Testing.synth(stack)).toContain('late@example.test OK');
  });
});
