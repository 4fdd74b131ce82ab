/**
 * Hardening against what a server on the Internet meets: relay probes from
 * every direction (published ports over IPv4 and IPv6, and a container on the
 * stack's own network), logins as someone else's address, password guessing,
 * floods, and malformed SMTP; after all of it the server still serves.
 */
import { ImapFlow } from 'imapflow';
import * as nodemailer from 'nodemailer';
import { connect } from 'node:net';
import { runInImage } from '../support/docker';
import { RELAY_SENDERS, RELAY_TRICKS } from '../support/relay-tricks';
import { ensureSinkImage } from '../support/sink';
import { SmtpProbe } from '../support/smtp-probe';
import { exampleStack, TestStack } from '../support/stack';

jest.setTimeout(10 * 60_000);

const ALICE = { user: 'alice@example.test', pass: 'alice-secret' };
const PLAIN = (user: string, pass: string) => Buffer.from(`\0${user}\0${pass}`).toString('base64');

let stack: TestStack;

beforeAll(async () => {
  stack = await exampleStack('hard', (doc) => {
    doc.ipv6 = true;
    // The relay matrix alone sends hundreds of MAIL FROMs from one address; the limits get their own test below.
    doc.limits = { messageSizeBytes: 26214400, clientMessagesPerMinute: 0, clientConnectionsPerMinute: 0 };
  });
  await stack.up();
});

afterAll(async () => {
  await stack?.down(true);
});

/** The tricks in sessions of 7: postfix sleeps a second per error after 10 (smtpd_soft_error_limit) and hangs up after 20. */
const TRICK_BATCHES = [RELAY_TRICKS.slice(0, 7), RELAY_TRICKS.slice(7)];

/** RCPT answers to each relay trick from each sender. */
async function relayAnswers(port: number, options: { host?: string; starttls?: boolean } = {}): Promise<Record<string, number>> {
  const answers: Record<string, number> = {};
  for (const [sender, tricks] of RELAY_SENDERS.flatMap((sender) => TRICK_BATCHES.map((batch) => [sender, batch] as const))) {
    const probe = await SmtpProbe.session(port, options);
    for (const rcpt of tricks) {
      const mail = await probe.send(`MAIL FROM:<${sender}>`);
      answers[`<${sender}> -> <${rcpt}>`] = mail.code === 250 ? (await probe.send(`RCPT TO:<${rcpt}>`)).code : mail.code;
      await probe.send('RSET');
    }
    probe.close();
  }
  return answers;
}

const accepted = (answers: Record<string, number>) => Object.entries(answers).filter(([, code]) => code >= 200 && code < 300);

describe('no relay for anyone who has not logged in', () => {
  it.each([
    ['smtp over IPv4', 'smtp', '127.0.0.1', false],
    ['smtp over IPv6', 'smtp', '::1', false],
    ['submission over IPv4 (after STARTTLS, without AUTH)', 'submission', '127.0.0.1', true],
    ['submission over IPv6 (after STARTTLS, without AUTH)', 'submission', '::1', true],
    ['the extra SMTP port', 'extra', '127.0.0.1', false],
  ] as const)('gives no 2xx at RCPT to any trick from any sender: %s', async (_, service, host, starttls) => {
    const port = service === 'extra' ? stack.extraSmtpPort : stack.ports[service];
    const answers = await relayAnswers(port, { host, starttls });
    expect(Object.keys(answers)).toHaveLength(RELAY_SENDERS.length * RELAY_TRICKS.length);
    expect(accepted(answers)).toEqual([]);
  });

  it('gives no 2xx to a client container on the stack\'s own Docker network either', async () => {
    // GIVEN a client beside the containers, reaching postfix directly with its own address
    const script = `
import json, smtplib
senders, batches = ${JSON.stringify(RELAY_SENDERS)}, ${JSON.stringify(TRICK_BATCHES)}
out = {}
for sender, tricks in [(s, b) for s in senders for b in batches]:
    s = smtplib.SMTP("${stack.prefix}-postfix", 25, local_hostname="neighbour.test", timeout=30)
    s.ehlo()
    for rcpt in tricks:
        code = s.docmd("MAIL FROM:<%s>" % sender)[0]
        if code == 250:
            code = s.docmd("RCPT TO:<%s>" % rcpt)[0]
        out["<%s> -> <%s>" % (sender, rcpt)] = code
        s.rset()
    s.quit()
print(json.dumps(out))
`;
    const r = await runInImage(await ensureSinkImage(), ['python3', '-c', script], {}, undefined, `${stack.prefix}-net`);
    expect(r.stderr).toBe('');
    const answers = JSON.parse(r.stdout) as Record<string, number>;
    expect(Object.keys(answers)).toHaveLength(RELAY_SENDERS.length * RELAY_TRICKS.length);
    expect(accepted(answers)).toEqual([]);
  });
});

describe('logged-in users send only as themselves', () => {
  it('refuses another mailbox or an outside address as envelope sender, allows an alias that reaches the user', async () => {
    const probe = await SmtpProbe.session(stack.ports.submission, { starttls: true });
    expect((await probe.send(`AUTH PLAIN ${PLAIN(ALICE.user, ALICE.pass)}`)).code).toBe(235);
    const attempt = async (sender: string) => {
      await probe.send(`MAIL FROM:<${sender}>`);
      const r = await probe.send('RCPT TO:<friend@outside.test>');
      await probe.send('RSET');
      return r;
    };
    const asBob = await attempt('bob@example.test');
    const asStranger = await attempt('someone@outside.test');
    const asPostmaster = await attempt('postmaster@example.test'); // an alias of alice's
    const asSelfWithTag = await attempt('alice+news@example.test');
    probe.close();
    expect(asBob.text).toMatch(/^553 5\.7\.1 .*Sender address rejected: not owned by user alice@example\.test/);
    expect(asStranger.code).toBe(553);
    expect(asPostmaster.code).toBe(250);
    expect(asSelfWithTag.code).toBe(250);
  });
});

describe('malformed SMTP gets the standard errors, and the server keeps serving', () => {
  it('refuses commands sent before the greeting (pipelining abuse)', async () => {
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: stack.ports.smtp });
      let text = '';
      socket.on('connect', () => socket.write('EHLO spammer.test\r\nMAIL FROM:<a@outside.test>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n'));
      socket.on('data', (d) => (text += d.toString()));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
      socket.setTimeout(20_000, () => socket.destroy());
    });
    expect(reply).toMatch(/^554 5\.5\.0 .*[Pp]rotocol synchronization/m);
    expect(reply).not.toMatch(/^354 /m);
  });

  it('cuts a line over 2048 bytes (line_length_limit), refusing what is left of it, and the session goes on', async () => {
    const probe = await SmtpProbe.session(stack.ports.smtp);
    await probe.send('MAIL FROM:<someone@outside.test>');
    const long = await probe.send(`RCPT TO:<${'a'.repeat(5000)}@example.test>`);
    const after = await probe.send('NOOP');
    probe.close();
    expect(long.code).toBeGreaterThanOrEqual(500);
    expect(after.code).toBe(250);
  });

  it.each([
    ['a bare LF in a line', 'Subject: sloppy\r\n\r\nline one\nline two\r\n.'],
    ['a smuggled second message behind <LF>.<LF>', 'Subject: smuggled\r\n\r\nline one\n.\nMAIL FROM:<forged@example.test>\r\nRCPT TO:<alice@example.test>\r\n.'],
  ])('refuses %s with 550 5.5.2', async (_, content) => {
    const probe = await SmtpProbe.session(stack.ports.smtp);
    await probe.send('MAIL FROM:<someone@outside.test>');
    await probe.send(`RCPT TO:<${ALICE.user}>`);
    expect((await probe.send('DATA')).code).toBe(354);
    const r = await probe.send(content);
    probe.close();
    expect(r.text).toMatch(/^550 5\.5\.2 .*bare <LF> received/);
  });

  it('refuses a message announced over the size limit at MAIL, and one of 100 MB sent anyway at end of DATA', async () => {
    const probe = await SmtpProbe.session(stack.ports.smtp);
    expect((await probe.send('MAIL FROM:<someone@outside.test> SIZE=104857600')).text).toMatch(/^552 5\.3\.4 Message size exceeds fixed limit/);
    // postfix keeps the announced size until RSET
    await probe.send('RSET');
    expect((await probe.send('MAIL FROM:<someone@outside.test>')).text).toMatch(/^250 /);
    await probe.send(`RCPT TO:<${ALICE.user}>`);
    expect((await probe.send('DATA')).code).toBe(354);
    const line = `${'x'.repeat(998)}\r\n`;
    const chunk = line.repeat(1000); // 1 MB
    for (let i = 0; i < 100; i++) probe.write(chunk);
    const r = await probe.send('.');
    probe.close();
    expect(r.text).toMatch(/^552 5\.3\.4 /);
  });

  it('still takes and delivers mail afterwards', async () => {
    const subject = `after the abuse ${Date.now()}`;
    await nodemailer
      .createTransport({ host: '127.0.0.1', port: stack.ports.smtp, tls: { rejectUnauthorized: false }, name: 'client.remote.test' })
      .sendMail({ from: 'someone@outside.test', to: ALICE.user, subject, text: 'x' });
    const client = new ImapFlow({ host: '127.0.0.1', port: stack.ports.imaps, secure: true, auth: ALICE, tls: { rejectUnauthorized: false }, logger: false });
    await client.connect();
    try {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const found = await client.search({ subject }, { uid: true });
        if (found && found.length > 0) break;
        if (Date.now() > deadline) throw new Error('the message did not arrive');
        await new Promise((r) => setTimeout(r, 500));
        await client.mailboxOpen('INBOX');
      }
    } finally {
      await client.logout();
    }
  });
});

describe('password guessing and floods', () => {
  it('delays a wrong password by about 2 s (dovecot auth_failure_delay), not a right one', async () => {
    const probe = await SmtpProbe.session(stack.ports.submission, { starttls: true });
    // The right one first: after a failure dovecot's penalty delays the next attempt from the address too.
    let t = Date.now();
    expect((await probe.send(`AUTH PLAIN ${PLAIN(ALICE.user, ALICE.pass)}`)).code).toBe(235);
    const rightMs = Date.now() - t;
    probe.close();
    const second = await SmtpProbe.session(stack.ports.submission, { starttls: true });
    t = Date.now();
    expect((await second.send(`AUTH PLAIN ${PLAIN(ALICE.user, 'guess')}`)).code).toBe(535);
    const wrongMs = Date.now() - t;
    second.close();
    expect(wrongMs).toBeGreaterThanOrEqual(1500);
    expect(rightMs).toBeLessThan(1500);
  });

  describe('with tight per-client limits', () => {
    const LIMITS = { clientConnectionsPerMinute: 8, clientMessagesPerMinute: 3, clientAuthAttemptsPerMinute: 3 };

    beforeAll(async () => {
      // A new postfix container: anvil starts counting from zero.
      stack.edit((doc) => Object.assign(doc.limits as object, LIMITS));
      await stack.up();
    });

    it('refuses the messages over clientMessagesPerMinute with a 4xx', async () => {
      const probe = await SmtpProbe.session(stack.ports.smtp);
      const codes: string[] = [];
      for (let i = 0; i < LIMITS.clientMessagesPerMinute + 1; i++) {
        codes.push((await probe.send('MAIL FROM:<someone@outside.test>')).text);
        await probe.send('RSET');
      }
      probe.close();
      expect(codes.slice(0, LIMITS.clientMessagesPerMinute).every((t) => t.startsWith('250'))).toBe(true);
      expect(codes[LIMITS.clientMessagesPerMinute]).toMatch(/^450 4\.7\.1 .*too much mail from/i);
    });

    it('refuses AUTH over clientAuthAttemptsPerMinute, even with the right password', async () => {
      // A session per login (a second AUTH in one session is refused anyway).
      const replies: string[] = [];
      for (let i = 0; i <= LIMITS.clientAuthAttemptsPerMinute; i++) {
        const probe = await SmtpProbe.session(stack.ports.submission, { starttls: true });
        replies.push((await probe.send(`AUTH PLAIN ${PLAIN(ALICE.user, ALICE.pass)}`)).text);
        probe.close();
      }
      expect(replies.slice(0, LIMITS.clientAuthAttemptsPerMinute).every((r) => r.startsWith('235'))).toBe(true);
      expect(replies[LIMITS.clientAuthAttemptsPerMinute]).toMatch(/^4\d\d 4\.7\.\d .*too many AUTH/i);
    });

    it('refuses connections over clientConnectionsPerMinute with 421', async () => {
      // Connections made above count too: at most the limit get a greeting, then 421.
      const greetings: string[] = [];
      for (let i = 0; i <= LIMITS.clientConnectionsPerMinute && !greetings.some((g) => g.startsWith('421')); i++) {
        const { probe, greeting } = await SmtpProbe.open(stack.ports.smtp);
        greetings.push(greeting.text);
        if (greeting.code === 220) await probe.send('QUIT').catch(() => undefined);
        probe.close();
      }
      expect(greetings.filter((g) => g.startsWith('220')).length).toBeLessThanOrEqual(LIMITS.clientConnectionsPerMinute);
      expect(greetings[greetings.length - 1]).toMatch(/^421 4\.7\.0 .*too many connections/i);
    });
  });
});
