/**
 * The administrator's options end to end: catch-all, quotas refused at RCPT,
 * reading protocols turned off, IPv6 clients, and relay by network with
 * postfix in the host network, where it sees the clients' real addresses.
 */
import { ImapFlow } from 'imapflow';
import * as nodemailer from 'nodemailer';
import { connect } from 'node:net';
import { docker, execIn, runInImage } from '../support/docker';
import { ensureSinkImage, Sink, startSink } from '../support/sink';
import { SmtpProbe } from '../support/smtp-probe';
import { exampleStack, TestStack } from '../support/stack';

jest.setTimeout(10 * 60_000);

const ALICE = { user: 'alice@example.test', pass: 'alice-secret' };
const BOB = { user: 'bob@example.test', pass: 'bob-secret' };
const CAROL = { user: 'carol@example.org', pass: 'bob-secret' };

const unique = (what: string) => `${what} ${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;

type Mailboxes = { address: string; passwordHash: string; quotaBytes?: number }[];

async function withImap<T>(host: string, port: number, account: { user: string; pass: string }, f: (c: ImapFlow) => Promise<T>): Promise<T> {
  const client = new ImapFlow({ host, port, secure: true, auth: account, tls: { rejectUnauthorized: false }, logger: false });
  await client.connect();
  try {
    return await f(client);
  } finally {
    await client.logout();
  }
}

/** Subjects in INBOX, polled until `subject` is there (delivery is queue, then LMTP). */
async function waitForSubject(host: string, port: number, account: { user: string; pass: string }, subject: string): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const found = await withImap(host, port, account, async (c) => {
      const lock = await c.getMailboxLock('INBOX');
      try {
        if ((c.mailbox as { exists: number }).exists === 0) return undefined;
        for await (const m of c.fetch('1:*', { envelope: true, source: true })) if (m.envelope?.subject === subject) return m.source!.toString();
        return undefined;
      } finally {
        lock.release();
      }
    });
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`"${subject}" did not reach ${account.user}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Whether anything accepts a TCP connection there. */
const listening = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

describe('catch-all, quotas, protocols and IPv6 (postfix in the stack network)', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await exampleStack('opts', (doc) => {
      (doc.domains as string[]).push('example.org');
      const mailboxes = doc.mailboxes as Mailboxes;
      // bob: a quota of his own, small enough to fill; carol: the default one
      mailboxes[1].quotaBytes = 20_000;
      mailboxes.push({ address: CAROL.user, passwordHash: mailboxes[1].passwordHash });
      doc.limits = { messageSizeBytes: 26214400, mailboxSizeBytes: 5_000_000 };
      Object.assign(doc.aliases as object, { 'postmaster@example.org': CAROL.user, '@example.org': CAROL.user });
      doc.ipv6 = true;
    });
    await stack.up();
  });

  afterAll(async () => {
    await stack?.down(true);
  });

  const send = (to: string | string[], subject: string, text = 'x') =>
    nodemailer
      .createTransport({ host: '127.0.0.1', port: stack.ports.smtp, tls: { rejectUnauthorized: false }, name: 'client.remote.test' })
      .sendMail({ from: 'someone@remote.test', to, subject, text });

  it('delivers any address of a catch-all domain, with or without an extension, to its target', async () => {
    const subject = unique('catch-all');
    const info = await send(['whoever@example.org', 'sales+2026@example.org', 'postmaster@example.org'], subject);
    expect(info.accepted).toHaveLength(3);
    const message = await waitForSubject('127.0.0.1', stack.ports.imaps, CAROL, subject);
    expect(message).toContain(`Subject: ${subject}`);
    // while an unknown address of a domain without catch-all is still refused
    const probe = await SmtpProbe.session(stack.ports.smtp);
    await probe.send('MAIL FROM:<someone@remote.test>');
    expect((await probe.send('RCPT TO:<whoever@example.test>')).code).toBe(550);
    await probe.send('QUIT');
  });

  it('refuses mail for a full mailbox at RCPT with 552 5.2.2, and still takes it for others', async () => {
    // GIVEN bob's 20,000-byte mailbox holding a 15,000-byte message
    const filler = unique('filler');
    await send(BOB.user, filler, 'y'.repeat(15_000));
    await waitForSubject('127.0.0.1', stack.ports.imaps, BOB, filler);

    // WHEN a 10,000-byte message is announced for bob, then for alice
    const probe = await SmtpProbe.session(stack.ports.smtp);
    expect((await probe.send('MAIL FROM:<someone@remote.test> SIZE=10000')).code).toBe(250);
    const toBob = await probe.send(`RCPT TO:<${BOB.user}>`);
    const toAlice = await probe.send(`RCPT TO:<${ALICE.user}>`);
    await probe.send('QUIT');

    // THEN bob's is refused with the standard code, alice's (unlimited) accepted
    expect(toBob.text).toMatch(/^552 5\.2\.2 .*Mailbox is full/);
    expect(toAlice.code).toBe(250);
  });

  it('gives a mailbox without a quota of its own limits.mailboxSizeBytes, as IMAP QUOTA reports it', async () => {
    const quota = await withImap('127.0.0.1', stack.ports.imaps, CAROL, (c) => c.getQuota('INBOX'));
    // IMAP counts kibibytes, dovecot rounding up: 5,000,000 bytes is 4883 KiB.
    expect(quota && quota.storage?.limit).toBe(Math.ceil(5_000_000 / 1024) * 1024);
    const alice = await withImap('127.0.0.1', stack.ports.imaps, ALICE, (c) => c.getQuota('INBOX'));
    expect(alice && alice.storage).toBeUndefined();
  });

  it('takes SMTP and IMAPS from IPv6 clients on the IPv6 loopback', async () => {
    const subject = unique('over ipv6');
    const info = await nodemailer
      .createTransport({ host: '::1', port: stack.ports.smtp, tls: { rejectUnauthorized: false }, name: 'client6.remote.test' })
      .sendMail({ from: 'someone@remote.test', to: ALICE.user, subject, text: 'x' });
    expect(info.accepted).toEqual([ALICE.user]);
    expect(await waitForSubject('::1', stack.ports.imaps, ALICE, subject)).toContain(`Subject: ${subject}`);
  });

  it('closes the listeners of the reading protocols turned off, inside the container as well as outside', async () => {
    // GIVEN IMAP on 143 and POP3 on 110 answer
    expect(await listening('127.0.0.1', stack.ports.imap)).toBe(true);
    expect(await listening('127.0.0.1', stack.ports.pop3)).toBe(true);

    // WHEN only the implicit-TLS services stay on
    stack.edit((doc) => {
      doc.protocols = ['imaps', 'pop3s'];
      const ports = doc.ports as Record<string, unknown>;
      delete ports.imap;
      delete ports.pop3;
    });
    await stack.up();

    // THEN nothing listens on 143 or 110, not even in the container, and IMAPS still serves
    expect(await listening('127.0.0.1', stack.ports.imap)).toBe(false);
    expect(await listening('127.0.0.1', stack.ports.pop3)).toBe(false);
    const inside = await execIn(`${stack.prefix}-dovecot`, ['bash', '-c', 'for p in 143 110 993 995; do (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null && echo "$p open" || echo "$p closed"; done']);
    expect(inside.stdout.trim().split('\n')).toEqual(['143 closed', '110 closed', '993 open', '995 open']);
    expect(await withImap('127.0.0.1', stack.ports.imaps, ALICE, async (c) => ((await c.status("INBOX", { messages: true })) as { messages: number }).messages)).toBeGreaterThan(0);
  });
});

describe('relay by network, postfix in the host network', () => {
  // Two networks the test makes: the office LAN allowed to relay, and somewhere else.
  const octet = 100 + (process.pid % 100);
  const office = { name: `t-lan-${process.pid}-office`, subnet: `10.213.${octet}.0/24`, gateway: `10.213.${octet}.1` };
  const elsewhere = { name: `t-lan-${process.pid}-elsewhere`, subnet: `10.214.${octet}.0/24`, gateway: `10.214.${octet}.1` };
  let stack: TestStack;
  let sink: Sink;
  let clientImage: string;

  beforeAll(async () => {
    for (const n of [office, elsewhere]) {
      await docker.createNetwork({ Name: n.name, IPAM: { Config: [{ Subnet: n.subnet, Gateway: n.gateway }] } });
    }
    // The smarthost (a sink) sits on the office LAN; what postfix relays lands there.
    sink = await startSink(`t-lan-${process.pid}-sink`, office.name);
    const sinkIp = (await docker.getContainer(sink.name).inspect()).NetworkSettings.Networks[office.name].IPAddress;
    clientImage = await ensureSinkImage();
    stack = await exampleStack('lan', (doc) => {
      doc.relay = { networks: [office.subnet], smarthost: { host: sinkIp, port: 25, tls: 'none' } };
      // postfix listens on the office gateway, the host's address on that LAN
      doc.docker = { ...(doc.docker as object), hostNetwork: true, bindAddress: office.gateway };
    });
    await stack.up();
  });

  afterAll(async () => {
    await stack?.down(true);
    await sink?.stop();
    for (const n of [office, elsewhere]) await docker.getNetwork(n.name).remove().catch(() => undefined);
  });

  /** An SMTP session by a client container on `network` (python's smtplib): the reply codes and the client's address. */
  async function relayFrom(network: string, to: string, subject: string): Promise<{ mail: number; rcpt: [number, string]; data?: number }> {
    const script = `
import json, smtplib
s = smtplib.SMTP(${JSON.stringify(office.gateway)}, ${stack.ports.smtp}, local_hostname="printer.office.test", timeout=30)
s.ehlo()
mail = s.mail("printer@example.test")[0]
code, text = s.rcpt(${JSON.stringify(to)})
out = {"mail": mail, "rcpt": [code, text.decode()]}
if code == 250:
    out["data"] = s.data("From: printer@example.test\\r\\nTo: ${to}\\r\\nSubject: ${subject}\\r\\n\\r\\nscan attached\\r\\n")[0]
s.quit()
print(json.dumps(out))
`;
    const r = await runInImage(clientImage, ['python3', '-c', script], {}, undefined, network);
    if (r.exitCode !== 0) throw new Error(`the SMTP client failed: ${r.stderr}`);
    return JSON.parse(r.stdout);
  }

  it('relays mail from the allowed network without login, signed with DKIM, seen from its real address', async () => {
    const subject = unique('from the office');
    const r = await relayFrom(office.name, 'friend@outside.test', subject);
    expect(r).toMatchObject({ mail: 250, rcpt: [250, expect.any(String)], data: 250 });
    const relayed = (await sink.waitFor(1)).find((m) => m.raw.toString().includes(`Subject: ${subject}`))!;
    const raw = relayed.raw.toString();
    expect(raw).toMatch(new RegExp(`Received: from printer\\.office\\.test \\(\\S+ \\[10\\.213\\.${octet}\\.\\d+\\]\\)`));
    expect(raw).toMatch(/DKIM-Signature: .*d=example\.test/s);
  });

  it('refuses the same message from another network with 554 5.7.1, and from the host itself', async () => {
    const r = await relayFrom(elsewhere.name, 'friend@outside.test', unique('from elsewhere'));
    expect(r.rcpt[0]).toBe(554);
    expect(r.rcpt[1]).toMatch(/5\.7\.1 .*Relay access denied/);
    expect(r.data).toBeUndefined();
    // The host's own address is not trusted either (no loopback in mynetworks here).
    const probe = await SmtpProbe.session(stack.ports.smtp, { host: office.gateway });
    await probe.send('MAIL FROM:<printer@example.test>');
    expect((await probe.send('RCPT TO:<friend@outside.test>')).code).toBe(554);
    await probe.send('QUIT');
  });

  it('delivers local mail from anywhere, and submission with login still relays', async () => {
    const subject = unique('to alice from elsewhere');
    expect(await relayFrom(elsewhere.name, ALICE.user, subject)).toMatchObject({ rcpt: [250, expect.any(String)], data: 250 });
    expect(await waitForSubject(office.gateway, stack.ports.imaps, ALICE, subject)).toContain(`[10.214.${octet}.`);
    const viaLogin = unique('submitted');
    await nodemailer
      .createTransport({ host: office.gateway, port: stack.ports.submission, requireTLS: true, auth: ALICE, tls: { rejectUnauthorized: false } })
      .sendMail({ from: ALICE.user, to: 'friend@outside.test', subject: viaLogin, text: 'x' });
    const deadline = Date.now() + 30_000;
    while (!(await sink.messages()).some((m) => m.raw.toString().includes(`Subject: ${viaLogin}`))) {
      if (Date.now() > deadline) throw new Error('the submitted message did not reach the smarthost');
      await new Promise((r) => setTimeout(r, 500));
    }
  });
});
