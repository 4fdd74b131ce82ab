/**
 * relay.smarthost with STARTTLS and SASL: all non-local mail goes through a
 * relay that requires TLS and a login. The password reaches postfix only as
 * the Terraform variable smarthost_password (TF_VAR_smarthost_password).
 */
import * as nodemailer from 'nodemailer';
import { queueList, targetOf } from '../../cli/operator-commands';
import { Sink, startSink } from '../support/sink';
import { exampleStack, TestStack } from '../support/stack';

jest.setTimeout(10 * 60_000);

const LOGIN = { user: 'relay-user@example.test', password: 'relay s3cret:with:colons' };
let stack: TestStack;
let sink: Sink;
const saved = process.env.TF_VAR_smarthost_password;

const send = (subject: string) =>
  nodemailer
    .createTransport({ host: '127.0.0.1', port: stack.ports.submissions, secure: true, auth: { user: 'alice@example.test', pass: 'alice-secret' }, tls: { rejectUnauthorized: false } })
    .sendMail({ from: 'alice@example.test', to: 'friend@remote.test', subject, text: 'x' });

beforeAll(async () => {
  stack = await exampleStack('relay', (doc) => {
    doc.relay = { networks: [], smarthost: { host: `t-relay-${process.pid}-sink`, port: 25, tls: 'starttls', username: LOGIN.user } };
  });
});

afterAll(async () => {
  try {
    await sink?.stop();
    await stack?.down(true);
  } finally {
    if (saved === undefined) delete process.env.TF_VAR_smarthost_password;
    else process.env.TF_VAR_smarthost_password = saved;
  }
});

it('refuses to start without the password variable, naming it', async () => {
  delete process.env.TF_VAR_smarthost_password;
  await expect(stack.up()).rejects.toThrow(/the variable smarthost_password has no value: set TF_VAR_smarthost_password/);
});

it('relays outside mail through the smarthost over STARTTLS, logged in', async () => {
  process.env.TF_VAR_smarthost_password = LOGIN.password;
  await stack.up();
  sink = await startSink(`${stack.prefix}-sink`, `${stack.prefix}-net`, LOGIN);
  await send('via the smarthost');
  const [message] = await sink.waitFor(1);
  expect(message).toMatchObject({ tls: true, authUser: LOGIN.user, from: 'alice@example.test', to: ['friend@remote.test'] });
  expect(message.raw.toString()).toContain('Subject: via the smarthost');
});

it('keeps the mail queued when the smarthost refuses the login', async () => {
  process.env.TF_VAR_smarthost_password = 'not the password';
  // Only postfix takes the variable's value: only postfix is replaced.
  const result = await stack.up();
  expect(result.plan.filter((p) => p.action !== 'keep').map((p) => p.resource.address)).toEqual([expect.stringMatching(/^docker_container\.MailServer_Postfix_/)]);
  await send('refused login');
  const deadline = Date.now() + 60_000;
  for (;;) {
    const queued = (await queueList(targetOf(stack.configPath))).find((m) => m.queueName === 'deferred');
    if (queued) {
      expect(queued.recipients[0].delayReason).toMatch(/SASL authentication failed|Authentication (credentials invalid|failed)|535/i);
      break;
    }
    if (Date.now() > deadline) throw new Error('the message was not deferred');
    await new Promise((r) => setTimeout(r, 500));
  }
  expect(await sink.messages()).toHaveLength(1);
});
