#!/usr/bin/env -S npx ts-node --transpile-only
/**
 * mailstack's operator commands; see USAGE.
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/load';
import { formatChecks, runChecks } from './check-command';
import { formatQueue, hashForConfig, logs, MailService, queueAction, QueueAction, queueFlush, queueList, targetOf } from './operator-commands';
import { down, up } from './stack-commands';

const USAGE = `usage: mailstack <command> [--config FILE]      (FILE defaults to mailstack.yaml)
  up                          synthesize and apply to the config's Docker engine; waits until healthy
  down [--purge]              remove what up created; mail and queue volumes stay unless --purge
  queue list [--json]         the mail queue (mailq)
  queue delete ID|ALL         delete a message (postsuper -d)
  queue hold ID|ALL           put a message on hold (postsuper -h)
  queue release ID|ALL        release a held message (postsuper -H)
  queue requeue ID|ALL        requeue a message (postsuper -r)
  queue flush                 try every deferred message now (postqueue -f)
  logs [postfix|dovecot|opendkim] [--follow] [--tail N]   a container's log (default postfix: the mail log)
  hash-password               read a password, print its {SHA512-CRYPT} hash for mailstack.yaml
  check --user ADDRESS [--host HOST] [--json]
                              verify the deployed stack from outside through its published ports: TLS, no
                              open relay, no clear-text login, a test message sent and read back (then deleted);
                              password from MAILSTACK_CHECK_PASSWORD, else prompted; exits 1 if a check fails`;

/** Reads one line: from the terminal without echo, else from standard input. */
async function readPassword(prompt = 'Password: '): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: process.stdin.isTTY });
  if (process.stdin.isTTY) {
    process.stderr.write(prompt);
    // Echo nothing while the password is typed.
    (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => undefined;
  }
  const line = await new Promise<string>((resolve) => rl.once('line', resolve).once('close', () => resolve('')));
  rl.close();
  if (process.stdin.isTTY) process.stderr.write('\n');
  return line;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c', default: 'mailstack.yaml' },
      purge: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      follow: { type: 'boolean', short: 'f', default: false },
      tail: { type: 'string' },
      user: { type: 'string', short: 'u' },
      host: { type: 'string' },
    },
    strict: true,
  });
  const [command, sub, arg] = positionals;
  const config = values.config!;
  const log = (line: string) => console.log(line);
  switch (command) {
    case 'up':
      await up(config, { log });
      return 0;
    case 'down':
      await down(config, { log, purge: values.purge });
      return 0;
    case 'queue': {
      const target = targetOf(config);
      if (sub === 'list') {
        const messages = await queueList(target);
        process.stdout.write(values.json ? `${JSON.stringify(messages, null, 2)}\n` : formatQueue(messages));
        return 0;
      }
      if (sub === 'flush') {
        await queueFlush(target);
        return 0;
      }
      if (['delete', 'hold', 'release', 'requeue'].includes(sub ?? '') && arg) {
        process.stdout.write(await queueAction(target, sub as QueueAction, arg));
        return 0;
      }
      break;
    }
    case 'logs': {
      const service = (sub ?? 'postfix') as MailService;
      if (!['postfix', 'dovecot', 'opendkim'].includes(service)) break;
      await logs(targetOf(config), service, process.stdout, { follow: values.follow, tail: values.tail ? Number(values.tail) : undefined });
      return 0;
    }
    case 'hash-password':
      console.log(hashForConfig(await readPassword()));
      return 0;
    case 'check': {
      if (!values.user || sub) break;
      const password = process.env.MAILSTACK_CHECK_PASSWORD || (await readPassword(`Password for ${values.user}: `));
      process.stderr.write(`Checking ${config} as ${values.user}...\n`);
      const results = await runChecks({ configPath: config, user: values.user, password, host: values.host });
      process.stdout.write(values.json ? `${JSON.stringify(results, null, 2)}\n` : formatChecks(results));
      return results.some((r) => r.status === 'FAIL') ? 1 : 0;
    }
  }
  console.error(USAGE);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(err instanceof ConfigError ? err.message : `mailstack: ${err.message}`);
    process.exit(1);
  },
);
