/** The typed, validated and normalized form of mailstack.yaml. */

/** The mail services a client can reach, named as in /etc/services. */
export const MAIL_SERVICES = ['smtp', 'submission', 'submissions', 'imap', 'imaps', 'pop3', 'pop3s'] as const;
export type MailService = (typeof MAIL_SERVICES)[number];

/** The port each service listens on inside its container. */
export const CONTAINER_PORTS: Readonly<Record<MailService, number>> = {
  smtp: 25,
  submission: 587,
  submissions: 465,
  imap: 143,
  imaps: 993,
  pop3: 110,
  pop3s: 995,
};

export interface Mailbox {
  /** Address and login name, lowercase. */
  readonly address: string;
  /** A dovecot password hash, e.g. `{SHA512-CRYPT}$6$...`. */
  readonly passwordHash: string;
  /** Quota in bytes; 0 is unlimited. */
  readonly quotaBytes: number;
}

export interface MailstackConfig {
  readonly hostname: string;
  readonly domains: readonly string[];
  readonly mailboxes: readonly Mailbox[];
  /** Alias (address or `@domain`) to its targets. */
  readonly aliases: Readonly<Record<string, readonly string[]>>;
  readonly relay: { readonly networks: readonly string[] };
  readonly limits: { readonly messageSizeBytes: number };
  /** Host port per published service. */
  readonly ports: Readonly<Partial<Record<MailService, number>>>;
  /** Absolute paths when the operator brings a certificate; empty for a self-signed one. */
  readonly tls: { readonly certFile?: string; readonly keyFile?: string };
  readonly docker: { readonly host: string; readonly bindAddress: string; readonly namePrefix: string };
}

export const DEFAULT_MESSAGE_SIZE_BYTES = 26214400;
export const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock';
export const DEFAULT_BIND_ADDRESS = '0.0.0.0';
export const DEFAULT_NAME_PREFIX = 'mailstack';
