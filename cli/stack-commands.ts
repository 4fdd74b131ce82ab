/** `up` and `down`: the shipped stack, synthesized in-process and put on the engine by the local applier. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { App } from 'cdktf';
import { applyStack, ApplyResult, destroyStack, loadStack } from '../applier/apply';
import { loadConfigFile } from '../config/load';
import { MailstackConfig } from '../config/model';
import { MailStack } from '../constructs/mail-stack';

export interface Synthesized {
  readonly config: MailstackConfig;
  readonly stackFile: string;
  /** The applier's state, next to the config file (it holds the generated TLS key: mode 0600). */
  readonly stateFile: string;
}

/** Synthesizes the stack for a config file into `<config dir>/.mailstack/<namePrefix>/`. */
export function synthesize(configPath: string): Synthesized {
  const config = loadConfigFile(configPath);
  const prefix = config.docker.namePrefix;
  const workDir = join(dirname(resolve(configPath)), '.mailstack', prefix);
  const outdir = join(workDir, 'out');
  mkdirSync(outdir, { recursive: true });
  const app = new App({ outdir });
  new MailStack(app, prefix, config);
  app.synth();
  return { config, stackFile: join(outdir, 'stacks', prefix, 'cdk.tf.json'), stateFile: join(workDir, 'state.json') };
}

export interface CommandOptions {
  readonly log?: (line: string) => void;
}

export async function up(configPath: string, options: CommandOptions = {}): Promise<ApplyResult & Synthesized> {
  const log = options.log ?? (() => undefined);
  log(`Synthesizing ${configPath}`);
  const synthesized = synthesize(configPath);
  const stack = loadStack(synthesized.stackFile);
  log(`Applying to ${stack.dockerHost}`);
  const result = await applyStack(stack, { stateFile: synthesized.stateFile, log });
  // Outputs (zone file, MTA-STS policies, PTR reminder) next to the state, as `terraform output` would show them.
  const outputsFile = join(dirname(synthesized.stateFile), 'outputs.json');
  writeFileSync(outputsFile, JSON.stringify(result.stackOutputs, null, 2) + '\n', { mode: 0o600 });
  log(`Outputs (${Object.keys(result.stackOutputs).join(', ')}): ${outputsFile}`);
  const { ports, docker } = synthesized.config;
  const published = Object.entries(ports).map(([service, port]) => `${service} ${docker.bindAddress}:${port}`);
  log(`Mail for ${synthesized.config.domains.join(', ')} at ${synthesized.config.hostname}: ${published.join(', ') || 'no ports published'}`);
  return { ...result, ...synthesized };
}

export async function down(configPath: string, options: CommandOptions & { readonly purge?: boolean } = {}) {
  const synthesized = synthesize(configPath);
  return destroyStack(loadStack(synthesized.stackFile), { stateFile: synthesized.stateFile, log: options.log, purge: options.purge });
}
