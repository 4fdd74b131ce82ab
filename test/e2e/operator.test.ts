/**
 * The operator commands against a running stack, through the real CLI: the
 * queue (mailq, postsuper -d/-h/-H), the mail log, and password hashes that
 * dovecot verifies. Outbound mail goes to a smarthost that refuses
 * connections (the postfix container's own closed port 9), so it stays
 * deferred in the queue — no mail leaves the machine. The host name is longer
 * than a certificate's CN and a kernel host name may be (64 characters).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { connect as tlsConnect, PeerCertificate } from 'node:tls';
import * as nodemailer from 'nodemailer';
import { queueList, targetOf } from '../../cli/operator-commands';
import { execIn } from '../support/docker';
import { SmtpProbe } from '../support/smtp-probe';
import { exampleStack, TestStack } from '../support/stack';

jest.setTimeout(10 * 60_000);

const LONG_HOSTNAME = `mail.${'a'.repeat(60)}.example.test`;
const CLI = join(__dirname, '..', '..', 'cli', 'mailstack.ts');
let stack: TestStack;

/** Runs `mailstack <args> --config <the test's config>` as an operator would. */
function mailstack(args: string[], input?: string) {
  const r = spawnSync('npx', ['ts-node', '--transpile-only', CLI, ...args, '--config', stack.configPath], { encoding: 'utf8', input, timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  stack = await exampleStack('ops', (doc) => {
    doc.relay = { networks: [], smarthost: { host: '127.0.0.1', port: 9, tls: 'none' } };
    doc.hostname = LONG_HOSTNAME;
  });
  await stack.up();
});

afterAll(async () => {
  await stack?.down(true);
});

describe('a host name over 64 characters', () => {
  it('is the banner, and the certificate names it in its subjectAltName alone (no CN)', async () => {
    const { probe, greeting } = await SmtpProbe.open(stack.ports.smtp);
    await probe.send('QUIT').catch(() => undefined);
    expect(greeting.text).toContain(`${LONG_HOSTNAME} ESMTP`);
    const cert = await new Promise<PeerCertificate>((resolve, reject) => {
      const socket = tlsConnect({ host: '127.0.0.1', port: stack.ports.imaps, rejectUnauthorized: false }, () => {
        resolve(socket.getPeerCertificate());
        socket.end();
      });
      socket.on('error', reject);
    });
    expect(cert.subject?.CN).toBeUndefined();
    expect(cert.subjectaltname).toBe(`DNS:${LONG_HOSTNAME}`);
  });
});

describe('the queue', () => {
  let queueId: string;

  beforeAll(async () => {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: stack.ports.submission, requireTLS: true, auth: { user: 'alice@example.test', pass: 'alice-secret' }, tls: { rejectUnauthorized: false } });
    await transport.sendMail({ from: 'alice@example.test', to: 'friend@remote.test', subject: 'stuck', text: 'x' });
    const deadline = Date.now() + 60_000;
    for (;;) {
      const [message] = (await queueList(targetOf(stack.configPath))).filter((m) => m.recipients.some((r) => r.address === 'friend@remote.test'));
      if (message?.queueName === 'deferred') {
        queueId = message.queueId;
        break;
      }
      if (Date.now() > deadline) throw new Error('the message never reached the deferred queue');
      await new Promise((r) => setTimeout(r, 500));
    }
  });

  it('lists a deferred message with its recipient and the reason, as text and as JSON', () => {
    const text = mailstack(['queue', 'list']);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`^${queueId} +deferred +\\d+ \\S+  alice@example\\.test$`, 'm'));
    expect(text.stdout).toMatch(/friend@remote\.test\n +\(.*(refused|127\.0\.0\.1).*\)/);
    const json = mailstack(['queue', 'list', '--json']);
    expect(JSON.parse(json.stdout)).toEqual([expect.objectContaining({ queueId, queueName: 'deferred', sender: 'alice@example.test', recipients: [expect.objectContaining({ address: 'friend@remote.test' })] })]);
  });

  it('holds and releases it', () => {
    expect(mailstack(['queue', 'hold', queueId]).stdout).toMatch(/postsuper: Placed on hold: 1 message/);
    expect(JSON.parse(mailstack(['queue', 'list', '--json']).stdout)[0].queueName).toBe('hold');
    expect(mailstack(['queue', 'release', queueId]).stdout).toMatch(/postsuper: Released from hold: 1 message/);
    expect(JSON.parse(mailstack(['queue', 'list', '--json']).stdout)[0].queueName).not.toBe('hold');
  });

  it('refuses what is not a queue id, and an id that is not queued', () => {
    const bad = mailstack(['queue', 'delete', '-d']);
    expect(bad.status).not.toBe(0);
    const notThere = mailstack(['queue', 'delete', 'ABCDEF123']);
    expect(notThere.status).toBe(1);
    expect(notThere.stderr).toContain('no message ABCDEF123 in the queue');
  });

  it('deletes it by queue id, after which the queue is empty', () => {
    expect(mailstack(['queue', 'delete', queueId]).stdout).toMatch(/postsuper: .*Deleted: 1 message/);
    expect(mailstack(['queue', 'list']).stdout).toBe('Mail queue is empty\n');
  });
});

describe('the logs', () => {
  it('show the mail log: postfix submissions and deliveries', () => {
    const r = mailstack(['logs', 'postfix', '--tail', '500']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/postfix\/submission\/smtpd\[\d+\]: .*sasl_method=(PLAIN|LOGIN), sasl_username=alice@example\.test/);
  });

  it("show dovecot's log", () => {
    const r = mailstack(['logs', 'dovecot']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/master: Info: Dovecot v2\.3\.\d+.* starting up for imap, pop3, lmtp/);
  });
});

describe('hash-password', () => {
  it('prints a {SHA512-CRYPT} hash that dovecot verifies, salted anew each time', async () => {
    const first = mailstack(['hash-password'], 'correct horse\n').stdout.trim();
    const second = mailstack(['hash-password'], 'correct horse\n').stdout.trim();
    expect(first).toMatch(/^\{SHA512-CRYPT\}\$6\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$/);
    expect(second).not.toBe(first);
    const verify = (password: string) => execIn(`${stack.prefix}-dovecot`, ['doveadm', 'pw', '-t', first, '-p', password]);
    expect((await verify('correct horse')).exitCode).toBe(0);
    expect((await verify('wrong horse')).exitCode).not.toBe(0);
  });
});
