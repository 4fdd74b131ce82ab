/**
 * The app `cdktf synth|diff|deploy` runs: reads mailstack.yaml (or the file
 * named by MAILSTACK_CONFIG), makes one stack named after docker.namePrefix.
 */
import { App } from 'cdktf';
import { ConfigError, loadConfigFile } from './config/load';
import { MailStack } from './constructs/mail-stack';

const configPath = process.env.MAILSTACK_CONFIG ?? 'mailstack.yaml';
try {
  const config = loadConfigFile(configPath);
  const app = new App();
  new MailStack(app, config.docker.namePrefix, config);
  app.synth();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message);
  process.exit(1);
}
