/**
 * Crashes while mail flows: dovecot, then postfix, is killed with SIGKILL (its
 * main process, from the host, as an OOM kill or a segfault would end it) in
 * the middle of a stream of messages. The restart policy brings it back. Every
 * message that got 250 at end-of-DATA must then be in exactly one Maildir
 * file: none lost; duplicates are counted and reported. The figures go to
 * test-results/crash.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { queueFlush, queueList, targetOf } from '../../cli/operator-commands';
import { createCa } from '../support/ca';
import { docker, execIn } from '../support/docker';
import { SmtpProbe } from '../support/smtp-probe';
import { exampleStack, TestStack } from '../support/stack';

jest.setTimeout(20 * 60_000);

const MESSAGES_PER_RUN = Number(process.env.MAILSTACK_CRASH_MESSAGES ?? 2000);
const SESSIONS = 4;
const RESULTS = join(__dirname, '..', '..', 'test-results');

let stack: TestStack;
const report: Record<string, unknown> = {};

beforeAll(async () => {
  stack = await exampleStack('crash', (doc) => {
    // One client address sends thousands of messages here: no anvil limits.
    doc.limits = { clientConnectionsPerMinute: 0, clientConcurrentConnections: 0, clientMessagesPerMinute: 0 };
  });
  await stack.up();
});

afterAll(async () => {
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, 'crash.json'), `${JSON.stringify(report, null, 2)}\n`);
  await stack?.down(true);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Sends `count` messages tagged `tag-<n>` over parallel sessions; a broken
 * session is reopened (retrying while the server is down) and the message it
 * was sending is not retried: it counts as not acknowledged.
 */
async function stream(tag: string, count: number, onProgress: (acked: number) => void): Promise<{ acked: Set<string>; attempted: number }> {
  const acked = new Set<string>();
  let next = 0;
  const deadline = Date.now() + 10 * 60_000;
  const worker = async () => {
    let probe: SmtpProbe | undefined;
    while (next < count) {
      if (Date.now() > deadline) throw new Error(`the stream ${tag} did not finish`);
      try {
        if (!probe) {
          const opened = await SmtpProbe.open(stack.ports.smtp);
          probe = opened.probe;
          if (opened.greeting.code !== 220) throw new Error(opened.greeting.text);
          await probe.ehlo();
        }
        const id = `${tag}-${next++}`;
        if ((await probe.send('MAIL FROM:<load@remote.test>')).code !== 250) throw new Error('MAIL refused');
        if ((await probe.send('RCPT TO:<alice@example.test>')).code !== 250) throw new Error('RCPT refused');
        if ((await probe.send('DATA')).code !== 354) throw new Error('DATA refused');
        const end = await probe.send(`Subject: ${id}\r\nMessage-ID: <${id}@remote.test>\r\n\r\n${'crash test body\r\n'.repeat(40)}.`);
        if (end.code === 250) {
          acked.add(id);
          onProgress(acked.size);
        }
      } catch {
        probe?.close();
        probe = undefined;
        await sleep(200);
      }
    }
    if (probe) await probe.send('QUIT').catch(() => undefined);
    probe?.close();
  };
  await Promise.all(Array.from({ length: SESSIONS }, worker));
  return { acked, attempted: next };
}

/** Kills the container's main process from the host, as a crash would. */
async function crash(service: 'postfix' | 'dovecot'): Promise<void> {
  const { State } = await docker.getContainer(`${stack.prefix}-${service}`).inspect();
  process.kill(State.Pid, 'SIGKILL');
}

async function waitHealthy(service: 'postfix' | 'dovecot'): Promise<number> {
  const started = Date.now();
  for (;;) {
    const { State } = await docker.getContainer(`${stack.prefix}-${service}`).inspect();
    if (State.Running && State.Health?.Status === 'healthy') return Date.now() - started;
    if (Date.now() - started > 120_000) throw new Error(`${service} did not come back: ${JSON.stringify(State)}`);
    await sleep(500);
  }
}

/** How many Maildir files hold each tagged message, once the queue has drained. */
async function delivered(tag: string, expectedAtLeast: number): Promise<Map<string, number>> {
  const target = targetOf(stack.configPath);
  const deadline = Date.now() + 5 * 60_000;
  for (;;) {
    // Mail deferred while dovecot was down would otherwise wait for the next retry (minutes).
    await queueFlush(target);
    const r = await execIn(`${stack.prefix}-dovecot`, ['sh', '-c', `grep -rh '^Subject: ${tag}-' /var/mail/example.test/alice/Maildir/new /var/mail/example.test/alice/Maildir/cur 2>/dev/null || true`]);
    const counts = new Map<string, number>();
    for (const line of r.stdout.split('\n').filter(Boolean)) {
      const id = line.slice('Subject: '.length).trim();
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    const queued = (await queueList(target)).length;
    if (counts.size >= expectedAtLeast && queued === 0) return counts;
    if (Date.now() > deadline) return counts;
    await sleep(2000);
  }
}

describe.each(['dovecot', 'postfix'] as const)('SIGKILL of %s while mail is delivered', (service) => {
  it('loses no acknowledged message', async () => {
    // GIVEN a stream of messages; WHEN a third are acknowledged, the daemon crashes
    let crashed = false;
    let crashAt = 0;
    const tag = `crash-${service}`;
    const sent = await stream(tag, MESSAGES_PER_RUN, (acked) => {
      if (!crashed && acked >= MESSAGES_PER_RUN / 3) {
        crashed = true;
        crashAt = acked;
        void crash(service);
      }
    });
    const downMs = await waitHealthy(service);

    // THEN every acknowledged message is in the Maildir, exactly once
    const counts = await delivered(tag, sent.acked.size);
    const lost = [...sent.acked].filter((id) => !counts.has(id));
    const duplicated = [...counts].filter(([, n]) => n > 1).map(([id, n]) => `${id} x${n}`);
    const unacknowledgedButDelivered = [...counts.keys()].filter((id) => !sent.acked.has(id)).length;
    report[service] = {
      attempted: sent.attempted,
      acknowledged: sent.acked.size,
      delivered: counts.size,
      lost: lost.length,
      duplicated: duplicated.length,
      unacknowledgedButDelivered,
      crashedAfterAcknowledged: crashAt,
      stillDownAfterStreamMs: downMs,
      date: new Date().toISOString(),
    };
    console.log(`SIGKILL ${service}: ${JSON.stringify(report[service])}${duplicated.length ? `\nduplicates: ${duplicated.slice(0, 20).join(', ')}` : ''}`);
    expect(crashed).toBe(true);
    expect(lost).toEqual([]);
    expect(sent.acked.size).toBeGreaterThan(MESSAGES_PER_RUN / 2);
  });
});

describe.each([
  [
    'a mailbox added and an alias changed',
    (doc: Record<string, unknown>) => {
      const mailboxes = doc.mailboxes as { address: string; passwordHash: string }[];
      mailboxes.push({ address: 'dave@example.test', passwordHash: mailboxes[0].passwordHash });
      (doc.aliases as Record<string, unknown>)['team@example.test'] = ['alice@example.test', 'dave@example.test'];
    },
  ],
  [
    'the TLS certificate renewed',
    (doc: Record<string, unknown>) => {
      doc.tls = { certFile: 'renewed.pem', keyFile: 'renewed.key' };
    },
  ],
] as const)('up with %s while mail flows', (change, edit) => {
  it('loses no acknowledged message', async () => {
    if (change.includes('certificate')) {
      const ca = await createCa('renewal CA');
      const cert = await ca.issue('mail.example.test', { server: { ipAddresses: ['127.0.0.1'], dnsNames: ['mail.example.test'] } }, { validDays: 90 });
      writeFileSync(join(stack.configPath, '..', 'renewed.pem'), cert.certPem);
      writeFileSync(join(stack.configPath, '..', 'renewed.key'), cert.keyPem, { mode: 0o600 });
    }
    const tag = `change-${change.includes('certificate') ? 'cert' : 'directory'}`;
    stack.edit(edit);
    let applied: Promise<Awaited<ReturnType<TestStack['up']>>> | undefined;
    const sent = await stream(tag, MESSAGES_PER_RUN, (acked) => {
      if (!applied && acked >= MESSAGES_PER_RUN / 5) applied = stack.up();
    });
    const result = await applied!;
    const replaced = result.plan.filter((p) => p.action === 'replace').map((p) => p.resource.address.replace(/^docker_container\.MailServer_(\w+?)_.*$/, '$1'));
    const counts = await delivered(tag, sent.acked.size);
    const lost = [...sent.acked].filter((id) => !counts.has(id));
    report[`up: ${change}`] = {
      attempted: sent.attempted,
      acknowledged: sent.acked.size,
      delivered: counts.size,
      lost: lost.length,
      duplicated: [...counts.values()].filter((n) => n > 1).length,
      replaced,
      date: new Date().toISOString(),
    };
    console.log(`up with ${change}: ${JSON.stringify(report[`up: ${change}`])}`);
    expect(lost).toEqual([]);
  });
});

it('keeps fsync on: dovecot mail_fsync is not "never", postfix queue files are synced', async () => {
  const dovecot = await execIn(`${stack.prefix}-dovecot`, ['doveconf', '-h', 'mail_fsync']);
  expect(dovecot.stdout.trim()).toBe('optimized');
  // Postfix has no switch to skip fsync of queue files; a lowered smtpd "sync" would show in master.cf as -o.
  const postfix = await execIn(`${stack.prefix}-postfix`, ['sh', '-c', 'postconf -M | grep -c -i sync || true']);
  expect(postfix.stdout.trim()).toBe('0');
});
