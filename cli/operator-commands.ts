/**
 * The administrator's commands against a deployed stack: the queue (what
 * `mailq` and `postsuper` do), the logs, and password hashes for the YAML.
 * Containers are found by the config's docker.host and namePrefix.
 */
import { Writable } from 'node:stream';
import { encrypt } from 'unixcrypt';
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import { readFileSync } from 'node:fs';
import { DockerConnection, dockerFor } from '../applier/apply';
import { loadConfigFile } from '../config/load';
import { MailstackConfig } from '../config/model';

export type MailService = 'postfix' | 'dovecot' | 'opendkim';

/** One message in postfix's queue, as `postqueue -j` describes it. */
export interface QueuedMessage {
  readonly queueId: string;
  /** active, deferred, hold, incoming, maildrop. */
  readonly queueName: string;
  readonly arrivalTime: number;
  readonly messageSize: number;
  readonly sender: string;
  readonly recipients: readonly { readonly address: string; readonly delayReason?: string }[];
}

export interface Target {
  readonly docker: Docker;
  readonly prefix: string;
}

export function targetOf(configPath: string): Target {
  const config = loadConfigFile(configPath);
  return { docker: dockerFor(engineConnection(config.docker)), prefix: config.docker.namePrefix };
}

/** What MailStack gives the docker provider, with the PEM files read: the applier's own way in. */
export function engineConnection(docker: MailstackConfig['docker']): DockerConnection {
  const pem = (path: string) => readFileSync(path, 'utf8');
  return {
    host: docker.host,
    ...(docker.tls && { caMaterial: pem(docker.tls.caFile), certMaterial: pem(docker.tls.certFile), keyMaterial: pem(docker.tls.keyFile) }),
    ...(docker.sshOptions && { sshOpts: docker.sshOptions }),
  };
}

/** Runs a command in one of the stack's containers; fails with its output when it fails. */
async function run(target: Target, service: MailService, cmd: string[]): Promise<string> {
  const name = `${target.prefix}-${service}`;
  const container = target.docker.getContainer(name);
  let exec;
  try {
    exec = await container.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  } catch (err) {
    throw new Error(`${name} is not running (is the stack up?): ${(err as Error).message}`);
  }
  const stream = await exec.start({ hijack: true, stdin: false });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const collect = (into: Buffer[]) => new Writable({ write: (chunk: Buffer, _e, done) => (into.push(chunk), done()) });
  await new Promise<void>((resolve, reject) => {
    target.docker.modem.demuxStream(stream, collect(out), collect(err));
    stream.on('end', resolve).on('error', reject);
  });
  const { ExitCode } = await exec.inspect();
  if (ExitCode !== 0) throw new Error(`${cmd.join(' ')} in ${name} failed: ${Buffer.concat(err).toString().trim() || Buffer.concat(out).toString().trim()}`);
  return Buffer.concat(out).toString();
}

export async function queueList(target: Target): Promise<QueuedMessage[]> {
  const json = await run(target, 'postfix', ['postqueue', '-j']);
  return json
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const m = JSON.parse(line) as { queue_id: string; queue_name: string; arrival_time: number; message_size: number; sender: string; recipients: { address: string; delay_reason?: string }[] };
      return {
        queueId: m.queue_id,
        queueName: m.queue_name,
        arrivalTime: m.arrival_time,
        messageSize: m.message_size,
        sender: m.sender,
        recipients: m.recipients.map((r) => ({ address: r.address, ...(r.delay_reason ? { delayReason: r.delay_reason } : {}) })),
      };
    });
}

/** As `mailq` prints it, one message a paragraph. */
export function formatQueue(messages: readonly QueuedMessage[]): string {
  if (messages.length === 0) return 'Mail queue is empty\n';
  return messages
    .map((m) => {
      const when = new Date(m.arrivalTime * 1000).toISOString();
      const lines = [`${m.queueId.padEnd(12)} ${m.queueName.padEnd(8)} ${String(m.messageSize).padStart(8)} ${when}  ${m.sender || '<>'}`];
      for (const r of m.recipients) lines.push(`${' '.repeat(13)}${r.address}${r.delayReason ? `\n${' '.repeat(15)}(${r.delayReason})` : ''}`);
      return lines.join('\n');
    })
    .join('\n\n') + `\n\n-- ${messages.length} message${messages.length === 1 ? '' : 's'} in the queue\n`;
}

export type QueueAction = 'delete' | 'hold' | 'release' | 'requeue';
const POSTSUPER_FLAG: Record<QueueAction, string> = { delete: '-d', hold: '-h', release: '-H', requeue: '-r' };

/** postsuper -d|-h|-H|-r on one queue id, or ALL. */
export async function queueAction(target: Target, action: QueueAction, id: string): Promise<string> {
  // A queue id is letters and digits; anything else would reach postsuper as an option or a pattern.
  if (id !== 'ALL' && !/^[0-9A-Za-z]{6,}$/.test(id)) throw new Error(`"${id}" is not a postfix queue id (or ALL)`);
  if (id !== 'ALL' && !(await queueList(target)).some((m) => m.queueId === id)) throw new Error(`no message ${id} in the queue`);
  // postsuper reports on stderr even when it succeeds; run() returns stdout, so ask for both.
  return run(target, 'postfix', ['sh', '-c', `postsuper ${POSTSUPER_FLAG[action]} "$1" 2>&1`, 'postsuper', id]);
}

/** postqueue -f: try every deferred message now. */
export async function queueFlush(target: Target): Promise<void> {
  await run(target, 'postfix', ['postqueue', '-f']);
}

/** Streams a container's log (the mail log is postfix's) to `out`; with follow, until interrupted. */
export async function logs(target: Target, service: MailService, out: Writable, options: { follow?: boolean; tail?: number } = {}): Promise<void> {
  const container = target.docker.getContainer(`${target.prefix}-${service}`);
  const common = { stdout: true, stderr: true, timestamps: false, tail: options.tail ?? 200 };
  if (options.follow) {
    const stream = await container.logs({ ...common, follow: true });
    target.docker.modem.demuxStream(stream, out, out);
    await new Promise<void>((resolve) => stream.on('end', resolve));
    return;
  }
  const raw = (await container.logs({ ...common, follow: false })) as unknown as Buffer;
  for (let i = 0; i + 8 <= raw.length; i += 8 + raw.readUInt32BE(i + 4)) out.write(raw.subarray(i + 8, i + 8 + raw.readUInt32BE(i + 4)));
}

const CRYPT_ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A {SHA512-CRYPT} hash with a random salt, as `doveadm pw -s SHA512-CRYPT` prints it. */
export function hashForConfig(password: string): string {
  if (password.length === 0) throw new Error('an empty password cannot be hashed');
  const salt = Array.from(randomBytes(16), (b) => CRYPT_ALPHABET[b % 64]).join('');
  return `{SHA512-CRYPT}${encrypt(password, `$6$${salt}`)}`;
}
