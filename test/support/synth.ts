/** Synthesizes a MailStack from YAML text and reads back what it declares. */
import { Testing } from 'cdktf';
import { parseTemplate } from '../../applier/expressions';
import { parseConfig, LoadOptions } from '../../config/load';
import { MailstackConfig } from '../../config/model';
import { MailStack } from '../../constructs/mail-stack';
import { DIRECTORY_UPLOAD_DIR, DOVECOT_DIRECTORY_DIR, POSTFIX_DIRECTORY_DIR } from '../../render/layout';

/** A valid config to extend per test. */
export const BASE_YAML = `
hostname: mail.example.test
domains: [example.test]
mailboxes:
  - address: alice@example.test
    passwordHash: "{SHA512-CRYPT}$6$G379Mwf3zgyfW.7A$bHUdNfm4gudV5ZWPaHUgZViATTlewopiy41tGiuPy68gRZNPvPefRN18xs761vuORcBMqvlMmrsywYZ3yKZYR0"
aliases:
  postmaster@example.test: alice@example.test
ports: { smtp: 2525, submission: 2587, imaps: 2993 }
`;

export interface Synthesized {
  readonly config: MailstackConfig;
  readonly stack: MailStack;
  /** cdk.tf.json as text, exactly as `cdktf synth` writes it. */
  readonly text: string;
  readonly json: TerraformJson;
}

export interface TerraformJson {
  resource: Record<string, Record<string, Record<string, unknown>>>;
  output?: Record<string, unknown>;
  provider?: Record<string, unknown>;
}

export function synthYaml(yaml: string, options: LoadOptions = {}): Synthesized {
  const config = parseConfig(yaml, options);
  const stack = new MailStack(Testing.app(), config.docker.namePrefix, config);
  const text = Testing.synth(stack);
  return { config, stack, text, json: JSON.parse(text) as TerraformJson };
}

export interface UploadedFile {
  /** As written in cdk.tf.json: a Terraform template. */
  readonly content: string;
  readonly permissions?: string;
  /** What Terraform makes of `content` when it references nothing: the file as the container gets it. */
  readonly text?: string;
}

/**
 * The files a container gets by upload, by path in the container. For postfix
 * and dovecot, also the mail directory files the directory container
 * publishes to them, by the path the daemon reads them at.
 */
export function uploadsOf(json: TerraformJson, service: 'postfix' | 'dovecot' | 'opendkim' | 'directory'): Record<string, UploadedFile> {
  const own = uploadsOfContainer(json, service);
  if (service !== 'postfix' && service !== 'dovecot') return own;
  const publishedAt = service === 'postfix' ? POSTFIX_DIRECTORY_DIR : DOVECOT_DIRECTORY_DIR;
  const uploaded = `${DIRECTORY_UPLOAD_DIR}/${service}/`;
  const published = Object.entries(uploadsOfContainer(json, 'directory'))
    .filter(([path]) => path.startsWith(uploaded))
    .map(([path, file]) => [`${publishedAt}/${path.slice(uploaded.length)}`, file]);
  return { ...own, ...Object.fromEntries(published) };
}

/** The files one container gets by upload, by path in the container. */
export function uploadsOfContainer(json: TerraformJson, service: 'postfix' | 'dovecot' | 'opendkim' | 'directory'): Record<string, UploadedFile> {
  const containers = Object.values(json.resource.docker_container ?? {});
  const container = containers.find((c) => (c.labels as { label: string; value: string }[]).some((l) => l.label === 'org.mailstack.service' && l.value === service));
  if (!container) throw new Error(`no ${service} container in the stack`);
  const uploads = container.upload as { file: string; content: string; permissions?: string }[];
  return Object.fromEntries(
    uploads.map((u) => {
      const expr = parseTemplate(u.content);
      const text = expr.kind === 'literal' ? String(expr.value) : undefined;
      return [u.file, { content: u.content, permissions: u.permissions, text }];
    }),
  );
}
