#!/usr/bin/env -S npx ts-node --transpile-only
/**
 * mailstack's operator commands.
 *   up   [--config FILE]          synthesize and apply to the config's Docker engine
 *   down [--config FILE] [--purge] remove what up created; mail and queue volumes stay unless --purge
 */
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/load';
import { down, up } from './stack-commands';

const USAGE = `usage: mailstack up [--config FILE]
       mailstack down [--config FILE] [--purge]`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: { config: { type: 'string', short: 'c', default: 'mailstack.yaml' }, purge: { type: 'boolean', default: false } },
    strict: true,
  });
  const log = (line: string) => console.log(line);
  switch (command) {
    case 'up':
      await up(values.config!, { log });
      return 0;
    case 'down':
      await down(values.config!, { log, purge: values.purge });
      return 0;
    default:
      console.error(USAGE);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(err instanceof ConfigError ? err.message : `mailstack: ${err.message}`);
    process.exit(1);
  },
);
