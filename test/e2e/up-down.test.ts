/** `up` and `down` as an operator meets them: broken configs, two stacks on one engine. */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as nodemailer from 'nodemailer';
import { ImapFlow } from 'imapflow';
import { docker } from '../support/docker';
import { exampleStack } from '../support/stack';

jest.setTimeout(10 * 60_000);

const containersOf = (prefix: string) => docker.listContainers({ all: true, filters: { name: [`${prefix}-`] } });

describe('a broken configuration', () => {
  it('fails before touching the engine when the certificate file does not exist', async () => {
    const stack = await exampleStack('nocert', (doc) => {
      doc.tls = { certFile: 'missing-cert.pem', keyFile: 'missing-key.pem' };
    });
    await expect(stack.up()).rejects.toThrow(/tls\.certFile: "missing-cert\.pem" does not exist/);
    expect(await containersOf(stack.prefix)).toEqual([]);
  });

  it('fails with the container\'s own reason when the certificate is not one, leaving nothing restarting', async () => {
    const stack = await exampleStack('badcert', (doc) => {
      doc.tls = { certFile: 'cert.pem', keyFile: 'key.pem' };
    });
    writeFileSync(join(dirname(stack.configPath), 'cert.pem'), 'this is not a certificate\n');
    writeFileSync(join(dirname(stack.configPath), 'key.pem'), 'nor is this a key\n');
    try {
      await expect(stack.up()).rejects.toThrow(/exited with code 78:[\s\S]*refusing to start: TLS certificate \/etc\/mailstack\/tls\/fullchain\.pem is not a PEM certificate/);
      // The failed container is gone; what is left (opendkim, which needs no certificate) runs normally.
      const left = await containersOf(stack.prefix);
      expect(left.map((c) => c.Names[0])).not.toContainEqual(expect.stringMatching(/-(dovecot|postfix)$/));
      expect(left.every((c) => c.State === 'running')).toBe(true);
    } finally {
      await stack.down(true);
    }
  });
});

describe('two stacks side by side on one engine', () => {
  it('run at once with different prefixes and ports, each delivering its own mail', async () => {
    const a = await exampleStack('side-a');
    const b = await exampleStack('side-b');
    try {
      await a.up();
      await b.up();
      expect((await containersOf(a.prefix)).map((c) => c.State)).toEqual(['running', 'running', 'running', 'running']);
      expect((await containersOf(b.prefix)).map((c) => c.State)).toEqual(['running', 'running', 'running', 'running']);
      // Declared restart policy in force once healthy (the applier starts containers without one).
      for (const c of await containersOf(a.prefix)) expect((await docker.getContainer(c.Id).inspect()).HostConfig.RestartPolicy?.Name).toBe('unless-stopped');
      for (const [stack, subject] of [
        [a, 'to stack a'],
        [b, 'to stack b'],
      ] as const) {
        const t = nodemailer.createTransport({ host: '127.0.0.1', port: stack.ports.smtp, secure: false, tls: { rejectUnauthorized: false } });
        await t.sendMail({ from: 'someone@remote.test', to: 'alice@example.test', subject, text: 'x' });
      }
      const subjects = async (port: number) => {
        const client = new ImapFlow({ host: '127.0.0.1', port, secure: true, auth: { user: 'alice@example.test', pass: 'alice-secret' }, tls: { rejectUnauthorized: false }, logger: false });
        await client.connect();
        const deadline = Date.now() + 30_000;
        try {
          for (;;) {
            const status = await client.status('INBOX', { messages: true });
            if ((status && status.messages) || Date.now() > deadline) break;
            await new Promise((r) => setTimeout(r, 500));
          }
          const lock = await client.getMailboxLock('INBOX');
          try {
            const out: string[] = [];
            for await (const m of client.fetch('1:*', { envelope: true })) out.push(m.envelope?.subject ?? '');
            return out;
          } finally {
            lock.release();
          }
        } finally {
          await client.logout();
        }
      };
      expect(await subjects(a.ports.imaps)).toEqual(['to stack a']);
      expect(await subjects(b.ports.imaps)).toEqual(['to stack b']);
    } finally {
      await a.down(true);
      await b.down(true);
    }
    expect(await containersOf(a.prefix)).toEqual([]);
    expect((await docker.listVolumes({ filters: { name: [a.prefix] } })).Volumes ?? []).toEqual([]);
  });
});
