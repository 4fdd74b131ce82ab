/** The SMTP sink container (test/support/sink): the outside world's MTA, keeping what it receives. */
import { join } from 'node:path';
import { docker, ensureTestImage, execIn } from './docker';

const SINK_DIR = join(__dirname, 'sink');

export interface SunkMessage {
  readonly raw: Buffer;
  readonly ip: string;
  readonly helo: string;
  readonly from: string;
  readonly to: string[];
  /** Whether the client had switched to TLS. */
  readonly tls: boolean;
  /** The SASL login, when the sink required one. */
  readonly authUser: string | null;
}

export interface Sink {
  readonly name: string;
  /** Messages received so far, oldest first. */
  messages(): Promise<SunkMessage[]>;
  /** Waits until `count` messages have arrived. */
  waitFor(count: number, timeoutMs?: number): Promise<SunkMessage[]>;
  stop(): Promise<void>;
}

/**
 * Waits until the sink answers on port 25: postfix defers mail to a refused
 * connection for minutes, longer than any test waits.
 */
async function untilListening(name: string, timeoutMs = 30_000): Promise<void> {
  const probe = 'import socket; s = socket.create_connection(("127.0.0.1", 25), 1); assert s.recv(3) == b"220"';
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await execIn(name, ['python3', '-c', probe])).exitCode === 0) return;
    if (Date.now() > deadline) throw new Error(`the sink ${name} did not answer on port 25 within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export const ensureSinkImage = () => ensureTestImage(SINK_DIR, 'mailstack-test-sink');

/**
 * Starts a sink named `name` on `network`, reachable there as `name`. With
 * `login`, it is a smarthost: STARTTLS, then AUTH with exactly these credentials.
 */
export async function startSink(name: string, network: string, login?: { user: string; password: string }): Promise<Sink> {
  const image = await ensureSinkImage();
  const Env = login ? [`SINK_USER=${login.user}`, `SINK_PASSWORD=${login.password}`] : [];
  const container = await docker.createContainer({ name, Image: image, Env, Hostname: 'sink.remote.test', HostConfig: { NetworkMode: network }, NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: [name] } } } });
  await container.start();
  await untilListening(name);
  // The tests' messages are ASCII: text round-trips them exactly.
  const run = async (cmd: string[]) => Buffer.from((await execIn(name, cmd)).stdout, 'utf8');
  const messages = async (): Promise<SunkMessage[]> => {
    const names = (await run(['sh', '-c', 'cd /sink && ls *.json 2>/dev/null | sort -n'])).toString().split('\n').filter(Boolean);
    const out: SunkMessage[] = [];
    for (const name of names) {
      const envelope = JSON.parse((await run(['cat', `/sink/${name}`])).toString()) as Omit<SunkMessage, 'raw'>;
      out.push({ ...envelope, raw: await run(['cat', `/sink/${name.replace(/\.json$/, '.eml')}`]) });
    }
    return out;
  };
  return {
    name,
    messages,
    async waitFor(count, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const got = await messages();
        if (got.length >= count) return got;
        if (Date.now() > deadline) throw new Error(`the sink got ${got.length} of ${count} messages`);
        await new Promise((r) => setTimeout(r, 500));
      }
    },
    stop: () => container.remove({ force: true }).then(() => undefined),
  };
}
