/**
 * A mailstack brought up on the local engine for a test: the shipped example
 * with a unique name prefix and free ports on 127.0.0.1, through the same
 * `up`/`down` an operator runs.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as yaml from 'js-yaml';
import { down, up } from '../../cli/stack-commands';
import { MAIL_SERVICES, MailService } from '../../config/model';

export const EXAMPLE_CONFIG = join(__dirname, '..', '..', 'mailstack.yaml');

/** A port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface TestStack {
  readonly configPath: string;
  readonly prefix: string;
  readonly ports: Readonly<Record<MailService, number>>;
  /** An extra SMTP listener (ports.extraSmtp), like the seed's 10025. */
  readonly extraSmtpPort: number;
  /** Rewrites the config (e.g. a mailbox added) keeping prefix and ports. */
  edit(change: (doc: Record<string, unknown>) => void): void;
  up(): ReturnType<typeof up>;
  down(purge?: boolean): ReturnType<typeof down>;
  readonly log: string[];
}

/** The example config, made private to this test: its own prefix, free ports, loopback only. */
export async function exampleStack(name: string, change?: (doc: Record<string, unknown>) => void): Promise<TestStack> {
  const dir = mkdtempSync(join(tmpdir(), `mailstack-${name}-`));
  const prefix = `t-${name}-${process.pid}`;
  const doc = yaml.load(readFileSync(EXAMPLE_CONFIG, 'utf8')) as Record<string, unknown>;
  const ports = {} as Record<MailService, number>;
  for (const service of MAIL_SERVICES) ports[service] = await freePort();
  const extraSmtpPort = await freePort();
  Object.assign(doc, { ports: { ...ports, extraSmtp: [extraSmtpPort] }, docker: { ...(doc.docker as object), bindAddress: '127.0.0.1', namePrefix: prefix } });
  change?.(doc);
  const configPath = join(dir, 'mailstack.yaml');
  const write = () => writeFileSync(configPath, yaml.dump(doc));
  write();
  const log: string[] = [];
  const options = { log: (line: string) => log.push(line) };
  return {
    configPath,
    prefix,
    ports,
    extraSmtpPort,
    log,
    edit(f) {
      f(doc);
      write();
    },
    up: () => up(configPath, options),
    down: (purge = false) => down(configPath, { ...options, purge }),
  };
}
