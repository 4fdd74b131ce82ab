/**
 * The shipped example stack, brought up with `up` on the local engine (ports
 * on 127.0.0.1 only), used by real clients and a remote MTA: nodemailer for
 * SMTP, imapflow for IMAP, raw sessions where the exact replies are the point.
 */
import { ImapFlow } from 'imapflow';
import * as nodemailer from 'nodemailer';
import { docker } from '../support/docker';
import { Pop3 } from '../support/pop3';
import { RELAY_TRICKS } from '../support/relay-tricks';
import { SmtpProbe } from '../support/smtp-probe';
import { exampleStack, TestStack } from '../support/stack';
import { clientCanSpeak, handshake } from '../support/tls-probe';

jest.setTimeout(10 * 60_000);

const ALICE = { user: 'alice@example.test', pass: 'alice-secret' };
const BOB = { user: 'bob@example.test', pass: 'bob-secret' };
const CAROL = { user: 'carol@example.org', pass: 'bob-secret' };

let stack: TestStack;

beforeAll(async () => {
  // The example, plus a second local domain so "another local domain" is real.
  stack = await exampleStack('mail', (doc) => {
    (doc.domains as string[]).push('example.org');
    const bob = (doc.mailboxes as { address: string; passwordHash: string }[])[1];
    (doc.mailboxes as object[]).push({ address: CAROL.user, passwordHash: bob.passwordHash });
    (doc.aliases as Record<string, unknown>)['postmaster@example.org'] = CAROL.user;
  });
  await stack.up();
});

afterAll(async () => {
  await stack?.down(true);
});

const transport = (port: number, options: { secure?: boolean; auth?: { user: string; pass: string }; requireTLS?: boolean } = {}) =>
  nodemailer.createTransport({ host: '127.0.0.1', port, secure: options.secure ?? false, requireTLS: options.requireTLS, auth: options.auth, tls: { rejectUnauthorized: false }, name: 'client.remote.test' });

async function imapMessages(account: { user: string; pass: string }): Promise<{ subject: string; to: string[] }[]> {
  const client = new ImapFlow({ host: '127.0.0.1', port: stack.ports.imaps, secure: true, auth: account, tls: { rejectUnauthorized: false }, logger: false });
  await client.connect();
  try {
    const lock = await client.getMailboxLock('INBOX');
    try {
      const out: { subject: string; to: string[] }[] = [];
      for await (const m of client.fetch('1:*', { envelope: true })) {
        out.push({ subject: m.envelope?.subject ?? '', to: (m.envelope?.to ?? []).map((a) => a.address ?? '') });
      }
      return out;
    } catch (err) {
      // An empty mailbox has no 1:*.
      if (/Invalid messageset|No matching messages/i.test(String(err))) return [];
      throw err;
    } finally {
      lock.release();
    }
  } finally {
    await client.logout();
  }
}

/** Local delivery is asynchronous (queue, then LMTP): poll until the message is there. */
async function waitForSubject(account: { user: string; pass: string }, subject: string): Promise<{ subject: string; to: string[] }> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const found = (await imapMessages(account)).find((m) => m.subject === subject);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`"${subject}" did not reach ${account.user}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const unique = (what: string) => `${what} ${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;

describe('delivery from a remote MTA on port 25', () => {
  it('delivers to a local mailbox, readable over IMAPS and POP3S', async () => {
    const subject = unique('from remote');
    const info = await transport(stack.ports.smtp).sendMail({ from: 'someone@remote.test', to: BOB.user, subject, text: 'hello bob' });
    expect(info.accepted).toEqual([BOB.user]);
    expect(await waitForSubject(BOB, subject)).toEqual({ subject, to: [BOB.user] });

    const { pop, greeting } = await Pop3.open(stack.ports.pop3s, true);
    expect(greeting).toMatch(/^\+OK/);
    expect(await pop.command(`USER ${BOB.user}`)).toMatch(/^\+OK/);
    expect(await pop.command(`PASS ${BOB.pass}`)).toMatch(/^\+OK/);
    const list = (await pop.command('LIST', true)).split('\r\n').slice(1);
    const bodies = await Promise.all(list.map(async (line) => pop.command(`RETR ${line.split(' ')[0]}`, true)));
    pop.close();
    expect(bodies.some((b) => b.includes(`Subject: ${subject}`) && b.includes('hello bob'))).toBe(true);
  });

  it('delivers to every target of an alias, and address extensions to the mailbox', async () => {
    const subject = unique('to the team');
    await transport(stack.ports.smtp).sendMail({ from: 'someone@remote.test', to: ['team@example.test', 'alice+lists@example.test'], subject, text: 'x' });
    await waitForSubject(ALICE, subject);
    await waitForSubject(BOB, subject);
  });

  it('takes mail on the extra SMTP port too (ports.extraSmtp)', async () => {
    const subject = unique('on the extra port');
    await transport(stack.extraSmtpPort).sendMail({ from: 'someone@remote.test', to: ALICE.user, subject, text: 'x' });
    await waitForSubject(ALICE, subject);
  });

  it('refuses an unknown local recipient at RCPT with 550', async () => {
    const { probe } = await SmtpProbe.open(stack.ports.smtp);
    await probe.ehlo();
    expect((await probe.send('MAIL FROM:<someone@remote.test>')).code).toBe(250);
    const r = await probe.send('RCPT TO:<nobody@example.test>');
    probe.close();
    expect(r.code).toBe(550);
    expect(r.text).toMatch(/5\.1\.1/);
  });
});

describe('no relaying for unauthenticated clients', () => {

  it.each([
    ['smtp', false],
    ['submission', true],
  ] as const)('no relay trick gets a 2xx at RCPT on %s', async (service, starttls) => {
    const probe = await SmtpProbe.session(stack.ports[service], { starttls });
    const answers: Record<string, number> = {};
    for (const rcpt of RELAY_TRICKS) {
      const mail = await probe.send('MAIL FROM:<alice@example.test>');
      answers[rcpt] = mail.code === 250 ? (await probe.send(`RCPT TO:<${rcpt}>`)).code : mail.code;
      await probe.send('RSET');
    }
    probe.close();
    const accepted = Object.entries(answers).filter(([, code]) => code >= 200 && code < 300);
    expect(accepted).toEqual([]);
    expect(Object.keys(answers)).toHaveLength(RELAY_TRICKS.length);
  });
});

describe('submission on 587', () => {
  it('offers no AUTH before STARTTLS, and PLAIN and LOGIN after it', async () => {
    const { probe } = await SmtpProbe.open(stack.ports.submission);
    const before = await probe.ehlo();
    expect(before).toContain('STARTTLS');
    expect(before.some((k) => k.startsWith('AUTH'))).toBe(false);
    expect((await probe.send('AUTH PLAIN AGFsaWNlQGV4YW1wbGUudGVzdABhbGljZS1zZWNyZXQ=')).code).toBeGreaterThanOrEqual(500);
    await probe.starttls();
    const after = await probe.ehlo();
    probe.close();
    expect(after).toContain('AUTH PLAIN LOGIN');
  });

  it.each(['PLAIN', 'LOGIN'])('authenticates with %s and sends to a local domain, another local domain and outside', async (method) => {
    const subject = unique(`submitted with ${method}`);
    const t = nodemailer.createTransport({
      host: '127.0.0.1',
      port: stack.ports.submission,
      requireTLS: true,
      auth: { ...ALICE, method },
      authMethod: method,
      tls: { rejectUnauthorized: false },
    } as never);
    const info = await t.sendMail({ from: ALICE.user, to: [BOB.user, CAROL.user, 'friend@outside.test'], subject, text: 'x' });
    expect(info.accepted.sort()).toEqual([BOB.user, CAROL.user, 'friend@outside.test'].sort());
    await waitForSubject(BOB, subject);
    await waitForSubject(CAROL, subject);
  });

  it('refuses a wrong password', async () => {
    await expect(transport(stack.ports.submission, { requireTLS: true, auth: { user: ALICE.user, pass: 'wrong' } }).verify()).rejects.toThrow(/535/);
  });
});

describe('submissions on 465 and TLS versions', () => {
  it('takes authenticated mail over implicit TLS', async () => {
    const subject = unique('over 465');
    const info = await transport(stack.ports.submissions, { secure: true, auth: BOB }).sendMail({ from: BOB.user, to: ALICE.user, subject, text: 'x' });
    expect(info.accepted).toEqual([ALICE.user]);
    await waitForSubject(ALICE, subject);
  });

  it.each(['submissions', 'imaps', 'pop3s'] as const)('refuses TLS 1.0 and 1.1 on %s, negotiates 1.2 and 1.3', async (service) => {
    // Our client can speak the old versions: a refusal is the server's.
    expect(await clientCanSpeak('TLSv1')).toBe(true);
    expect(await clientCanSpeak('TLSv1.1')).toBe(true);
    const port = stack.ports[service];
    expect(await handshake(port, 'TLSv1', 'TLSv1')).toMatch(/^refused/);
    expect(await handshake(port, 'TLSv1.1', 'TLSv1.1')).toMatch(/^refused/);
    expect(await handshake(port, 'TLSv1.2', 'TLSv1.2')).toBe('TLSv1.2');
    expect(await handshake(port, 'TLSv1.3', 'TLSv1.3')).toBe('TLSv1.3');
  });
});

describe('IMAP and POP3 without implicit TLS', () => {
  it('IMAP on 143 advertises LOGINDISABLED and refuses LOGIN before STARTTLS', async () => {
    const { probe, greeting } = await RawImap.open(stack.ports.imap);
    expect(greeting).toMatch(/LOGINDISABLED/);
    expect(greeting).toMatch(/STARTTLS/);
    const reply = await probe.command(`a1 LOGIN ${ALICE.user} ${ALICE.pass}`);
    probe.close();
    expect(reply).toMatch(/^a1 NO/m);
  });

  it('IMAP on 143 logs in after STARTTLS', async () => {
    const client = new ImapFlow({ host: '127.0.0.1', port: stack.ports.imap, secure: false, doSTARTTLS: true, auth: ALICE, tls: { rejectUnauthorized: false }, logger: false });
    await client.connect();
    expect(client.usable).toBe(true);
    await client.logout();
  });

  it('POP3 on 110 refuses USER/PASS before STLS and accepts them after', async () => {
    const { pop } = await Pop3.open(stack.ports.pop3, false);
    const user = await pop.command(`USER ${ALICE.user}`);
    expect(user).toMatch(/^-ERR/);
    await pop.stls();
    expect(await pop.command(`USER ${ALICE.user}`)).toMatch(/^\+OK/);
    expect(await pop.command(`PASS ${ALICE.pass}`)).toMatch(/^\+OK/);
    pop.close();
  });
});

describe('mail survives the stack changing', () => {
  it('keeps delivered mail across down + up, and across an up that adds a mailbox', async () => {
    const subject = unique('kept');
    await transport(stack.ports.smtp).sendMail({ from: 'someone@remote.test', to: ALICE.user, subject, text: 'keep me' });
    await waitForSubject(ALICE, subject);

    const { kept } = await stack.down();
    expect(kept.sort()).toEqual([expect.stringMatching(/^docker_volume\.MailServer_Volumes_Mail_/), expect.stringMatching(/^docker_volume\.MailServer_Volumes_Queue_/)]);
    expect((await docker.listContainers({ all: true, filters: { name: [stack.prefix] } })).length).toBe(0);
    await stack.up();
    await waitForSubject(ALICE, subject);

    // A mailbox and an alias added: only the directory container is replaced, the daemons keep running
    // (an IMAP session opened before goes on), and both work as soon as up returns.
    const daemons = async () => (await docker.listContainers({ filters: { name: [`${stack.prefix}-postfix`, `${stack.prefix}-dovecot`] } })).map((c) => c.Id).sort();
    const before = await daemons();
    const session = new ImapFlow({ host: '127.0.0.1', port: stack.ports.imaps, secure: true, auth: ALICE, tls: { rejectUnauthorized: false }, logger: false });
    await session.connect();
    stack.edit((doc) => {
      const alice = (doc.mailboxes as { passwordHash: string }[])[0];
      (doc.mailboxes as object[]).push({ address: 'dave@example.test', passwordHash: alice.passwordHash });
      (doc.aliases as Record<string, unknown>)['sales@example.test'] = 'dave@example.test';
    });
    const second = await stack.up();
    expect(second.plan.filter((p) => p.action !== 'keep').map((p) => `${p.resource.address} ${p.action}`)).toEqual([expect.stringMatching(/^docker_container\.MailServer_Directory_\w+ replace$/)]);
    expect(await daemons()).toEqual(before);
    expect((await session.mailboxOpen('INBOX')).exists).toBeGreaterThan(0);
    await session.logout();
    await waitForSubject(ALICE, subject);
    const toDave = unique('to the new mailbox');
    await transport(stack.ports.smtp).sendMail({ from: 'someone@remote.test', to: ['dave@example.test', 'sales@example.test'], subject: toDave, text: 'welcome' });
    await waitForSubject({ user: 'dave@example.test', pass: ALICE.pass }, toDave);
    // Taken back: refused at once, and the login with it.
    stack.edit((doc) => {
      doc.mailboxes = (doc.mailboxes as { address: string }[]).filter((m) => m.address !== 'dave@example.test');
      delete (doc.aliases as Record<string, unknown>)['sales@example.test'];
    });
    await stack.up();
    expect(await daemons()).toEqual(before);
    await expect(transport(stack.ports.smtp).sendMail({ from: 'someone@remote.test', to: 'dave@example.test', subject: 'gone', text: 'x' })).rejects.toThrow(/550 5\.1\.1/);
    await expect(imapMessages({ user: 'dave@example.test', pass: ALICE.pass })).rejects.toThrow();
  });

  it('changes nothing on a second up with the same config, and says so', async () => {
    const before = await docker.listContainers({ filters: { name: [stack.prefix] } });
    stack.log.length = 0;
    const result = await stack.up();
    expect(result.plan.every((p) => p.action === 'keep')).toBe(true);
    expect(stack.log).toContainEqual(expect.stringMatching(/^No changes: \d+ resources are up to date\.$/));
    const after = await docker.listContainers({ filters: { name: [stack.prefix] } });
    expect(after.map((c) => c.Id).sort()).toEqual(before.map((c) => c.Id).sort());
  });
});

/** IMAP's greeting and tagged replies, raw (imapflow would refuse to try LOGIN under LOGINDISABLED). */
class RawImap {
  static async open(port: number) {
    const { connect } = await import('node:net');
    const socket = connect({ host: '127.0.0.1', port });
    socket.setEncoding('utf8');
    let buffer = '';
    const until = (re: RegExp) =>
      new Promise<string>((resolve, reject) => {
        const check = () => {
          if (re.test(buffer)) {
            socket.off('data', onData);
            const out = buffer;
            buffer = '';
            resolve(out);
          }
        };
        const onData = (c: string) => {
          buffer += c;
          check();
        };
        socket.on('data', onData);
        socket.once('error', reject);
        check();
      });
    const greeting = await until(/\r\n/);
    return {
      greeting,
      probe: {
        command: (line: string) => {
          socket.write(`${line}\r\n`);
          return until(new RegExp(`^${line.split(' ')[0]} (OK|NO|BAD)`, 'm'));
        },
        close: () => socket.destroy(),
      },
    };
  }
}
