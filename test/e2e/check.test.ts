/**
 * `mailstack check` against one example stack, in the order that keeps it to
 * one stack: healthy (every check passes through the real CLI and the test
 * message is deleted), a config publishing fewer ports (skips, and the
 * fallbacks to 465 and 143), a wrong password, and last dovecot stopped.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ImapFlow } from 'imapflow';
import * as yaml from 'js-yaml';
import { runChecks } from '../../cli/check-command';
import { docker } from '../support/docker';
import { exampleStack, TestStack } from '../support/stack';

jest.setTimeout(10 * 60_000);

const CLI = join(__dirname, '..', '..', 'cli', 'mailstack.ts');
const ALICE = { user: 'alice@example.test', pass: 'alice-secret' };
let stack: TestStack;

interface Row {
  readonly status: string;
  readonly detail: string;
}

/** Runs `mailstack check` as an operator would, the password in the environment; the table's rows by check name, in order. */
function check(args: string[], password: string) {
  const r = spawnSync('npx', ['ts-node', '--transpile-only', CLI, 'check', '--config', stack.configPath, ...args], {
    encoding: 'utf8',
    env: { ...process.env, MAILSTACK_CHECK_PASSWORD: password },
    timeout: 180_000,
  });
  const rows = new Map<string, Row>();
  // Columns are at least two spaces apart; names may have one ("relay refused").
  for (const m of r.stdout.matchAll(/^(.+?) {2,}(PASS|FAIL|SKIP) +(.*)$/gm)) rows.set(m[1], { status: m[2], detail: m[3] });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, rows };
}

const checkNames = () => ['smtp', `smtp ${stack.extraSmtpPort}`, 'relay refused', 'submission', 'submissions', 'send', 'receive', 'imap', 'imaps', 'pop3', 'pop3s'];

beforeAll(async () => {
  stack = await exampleStack('check');
  await stack.up();
});

afterAll(async () => {
  await stack?.down(true);
});

describe('a healthy stack', () => {
  let run: ReturnType<typeof check>;

  beforeAll(() => {
    run = check(['--user', ALICE.user], ALICE.pass);
  });

  it('passes every check, names each one in the table, and exits 0', () => {
    expect(run.stderr).not.toMatch(/mailstack:/);
    expect(run.status).toBe(0);
    expect([...run.rows.keys()]).toEqual(checkNames());
    for (const [name, row] of run.rows) expect({ name, ...row }).toEqual({ name, status: 'PASS', detail: expect.any(String) });
    expect(run.stdout).toMatch(/^11 passed, 0 failed, 0 skipped$/m);
  });

  it('says what it saw: the greeting, TLS and the self-signed certificate, the relay refusal, the mechanisms', () => {
    const tls = /TLSv1\.[23], certificate CN=mail\.example\.test \(self-signed\), valid until \d{4}-\d\d-\d\d$/;
    const row = (name: string) => run.rows.get(name)!.detail;
    expect(row('smtp')).toMatch(new RegExp(`^127\\.0\\.0\\.1:${stack.ports.smtp}: 220 mail\\.example\\.test ESMTP.*; STARTTLS: `));
    for (const name of ['smtp', 'submission', 'submissions', 'imap', 'imaps', 'pop3', 'pop3s']) expect(row(name)).toMatch(tls);
    expect(row('relay refused')).toMatch(/RCPT TO:<someone@example\.invalid> without AUTH: 554 5\.7\.1 .*Relay access denied/);
    expect(row('submission')).toMatch(/no AUTH before STARTTLS, AUTH PLAIN LOGIN after/);
    expect(row('send')).toMatch(new RegExp(`^127\\.0\\.0\\.1:${stack.ports.submission}: alice@example\\.test to itself over STARTTLS: 250 2\\.0\\.0 Ok: queued as [0-9A-F]+$`));
    expect(row('receive')).toMatch(new RegExp(`^127\\.0\\.0\\.1:${stack.ports.imaps}: "mailstack check [0-9a-f]{16}" in INBOX over IMAPS after [\\d.]+ s, deleted$`));
    expect(row('imap')).toMatch(/LOGINDISABLED before STARTTLS/);
    expect(row('pop3')).toMatch(/no USER or PLAIN before STLS/);
  });

  it('leaves no test message behind', async () => {
    const client = new ImapFlow({ host: '127.0.0.1', port: stack.ports.imaps, secure: true, auth: ALICE, tls: { rejectUnauthorized: false }, logger: false });
    await client.connect();
    try {
      const lock = await client.getMailboxLock('INBOX');
      try {
        expect(await client.search({ subject: 'mailstack check' })).toEqual([]);
      } finally {
        lock.release();
      }
    } finally {
      await client.logout();
    }
  });
});

describe('a config that publishes fewer ports', () => {
  it('skips what is not published, sends over 465 and reads over 143 with STARTTLS', async () => {
    const partial = join(dirname(stack.configPath), 'partial.yaml');
    const { ports, ...rest } = yaml.load(readFileSync(stack.configPath, 'utf8')) as { ports: Record<string, unknown> };
    const { submission: _s, imaps: _i, pop3: _p, pop3s: _ps, ...kept } = ports;
    writeFileSync(partial, yaml.dump({ ...rest, ports: kept }));

    const results = await runChecks({ configPath: partial, user: ALICE.user, password: ALICE.pass });
    const byName = Object.fromEntries(results.map((r) => [r.name, r]));
    expect(results.map((r) => r.name)).toEqual(checkNames());
    for (const name of ['submission', 'imaps', 'pop3', 'pop3s']) expect(byName[name]).toEqual({ name, status: 'SKIP', detail: `not published (no ports.${name})` });
    expect(byName.send).toEqual(expect.objectContaining({ status: 'PASS', detail: expect.stringMatching(new RegExp(`^127\\.0\\.0\\.1:${stack.ports.submissions}: .* over implicit TLS: 250 `)) }));
    expect(byName.receive).toEqual(expect.objectContaining({ status: 'PASS', detail: expect.stringMatching(new RegExp(`^127\\.0\\.0\\.1:${stack.ports.imap}: .* over IMAP with STARTTLS after`)) }));
    expect(results.filter((r) => r.status === 'FAIL')).toEqual([]);
  });
});

describe('a wrong password', () => {
  it('fails the send check with the 535 and the receive check with the login refusal, and exits non-zero', () => {
    const run = check(['--user', ALICE.user, '--host', '127.0.0.1'], 'not-alice-secret');
    expect(run.status).toBe(1);
    expect(run.rows.get('send')).toEqual({ status: 'FAIL', detail: expect.stringMatching(/expected to log in as alice@example\.test and have the message accepted, got: .*535 5\.7\.8 .*authentication failed/) });
    expect(run.rows.get('receive')).toEqual({ status: 'FAIL', detail: expect.stringMatching(/could not log in: \[AUTHENTICATIONFAILED\]/) });
    const failed = [...run.rows].filter(([, row]) => row.status !== 'PASS').map(([name]) => name);
    expect(failed).toEqual(['send', 'receive']);
    expect(run.stdout).toMatch(/^9 passed, 2 failed, 0 skipped$/m);
  });

  it('refuses an address that is not a mailbox before trying anything', () => {
    const run = check(['--user', 'postmaster@example.test'], 'x');
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('postmaster@example.test is not one of the mailboxes in');
    expect(run.rows.size).toBe(0);
  });
});

describe('a stack with dovecot stopped', () => {
  let run: ReturnType<typeof check>;

  beforeAll(async () => {
    await docker.getContainer(`${stack.prefix}-dovecot`).stop();
    run = check(['--user', ALICE.user], ALICE.pass);
  });

  it('exits non-zero', () => {
    expect(run.status).toBe(1);
  });

  it('fails IMAP, POP3 and receive with the refused connection', () => {
    const refused = (port: number) => ({ status: 'FAIL', detail: `connect ECONNREFUSED 127.0.0.1:${port}` });
    expect(run.rows.get('imap')).toEqual(refused(stack.ports.imap));
    expect(run.rows.get('imaps')).toEqual(refused(stack.ports.imaps));
    expect(run.rows.get('pop3')).toEqual(refused(stack.ports.pop3));
    expect(run.rows.get('pop3s')).toEqual(refused(stack.ports.pop3s));
    expect(run.rows.get('receive')).toEqual(refused(stack.ports.imaps));
  });

  it('fails send, since postfix asks dovecot to check the password', () => {
    const send = run.rows.get('send')!;
    expect(send.status).toBe('FAIL');
    // Postfix answers 454 4.7.0 when it cannot reach dovecot's auth socket, or drops the session.
    expect(send.detail).toMatch(new RegExp(`^127\\.0\\.0\\.1:${stack.ports.submission}: .*(454 4\\.7\\.0|closed)`));
  });

  it('still passes what postfix does alone', () => {
    expect(run.rows.get('smtp')?.status).toBe('PASS');
    expect(run.rows.get('relay refused')?.status).toBe('PASS');
  });
});
