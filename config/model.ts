/** The typed, validated and normalized form of mailstack.yaml. */

/** The mail services a client can reach, named as in /etc/services. */
export const MAIL_SERVICES = ['smtp', 'submission', 'submissions', 'imap', 'imaps', 'pop3', 'pop3s'] as const;
export type MailService = (typeof MAIL_SERVICES)[number];

/** The mail-reading services dovecot can run; `protocols` picks among them. */
export const READING_SERVICES = ['imap', 'imaps', 'pop3', 'pop3s'] as const;
export type ReadingService = (typeof READING_SERVICES)[number];

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
  readonly relay: { readonly networks: readonly string[]; readonly smarthost?: Smarthost };
  /** mailboxSizeBytes: the quota of mailboxes without their own (already applied to `mailboxes`). */
  readonly limits: { readonly messageSizeBytes: number; readonly mailboxSizeBytes: number } & ClientLimits;
  /** The mail-reading services that run. */
  readonly protocols: readonly ReadingService[];
  /** Clients over IPv6 too. */
  readonly ipv6: boolean;
  /** Host port per published service. */
  readonly ports: Readonly<Partial<Record<MailService, number>>>;
  /** More SMTP listeners like port 25, each published on its own number. */
  readonly extraSmtpPorts: readonly number[];
  /** Address-extension delimiter ('' for none). */
  readonly recipientDelimiter: string;
  /** Absolute paths when the operator brings a certificate; empty for a self-signed one. */
  readonly tls: { readonly certFile?: string; readonly keyFile?: string };
  readonly docker: {
    readonly host: string;
    readonly bindAddress: string;
    readonly namePrefix: string;
    readonly hostNetwork: boolean;
    /** tcp:// only: the client certificate the engine asks for and the CA its own certificate is checked against. */
    readonly tls?: DockerTls;
    /** ssh:// only: extra ssh client flags (the docker provider's ssh_opts). */
    readonly sshOptions?: readonly string[];
  };
  readonly dkim: DkimConfig;
  readonly dns: DnsConfig;
}

/** Absolute paths of PEM files: the CA that signed the engine's certificate, and the client certificate and key. */
export interface DockerTls {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

/** All non-local mail goes through this relay. Its password is a Terraform variable (TF_VAR_smarthost_password). */
export interface Smarthost {
  readonly host: string;
  readonly port: number;
  readonly tls: 'starttls' | 'implicit' | 'none';
  readonly username?: string;
}

export interface DkimConfig {
  readonly enabled: boolean;
  readonly selector: string;
  readonly keyBits: 1024 | 2048 | 3072 | 4096;
}

export type DnsProviderName = 'rfc2136' | 'cloudflare' | 'none';

export interface DnsConfig {
  readonly provider: DnsProviderName;
  readonly rfc2136?: { readonly server: string; readonly port: number; readonly keyName?: string; readonly keyAlgorithm: string };
  readonly cloudflare?: { readonly zoneIds: Readonly<Record<string, string>> };
  /** Zones records go to (the longest one containing a name). */
  readonly zones: readonly string[];
  readonly ttl: number;
  /** Public addresses of the mail host. */
  readonly addresses: readonly string[];
  readonly mx: boolean;
  /** The SPF record, or false for none. */
  readonly spf: string | false;
  readonly dkim: boolean;
  /** rua undefined: postmaster@<domain>. */
  readonly dmarc: false | { readonly policy: 'none' | 'quarantine' | 'reject'; readonly rua?: string; readonly adkim: 'r' | 's'; readonly aspf: 'r' | 's'; readonly percent: number };
  readonly mtaSts: false | { readonly mode: 'testing' | 'enforce' | 'none'; readonly maxAgeSeconds: number };
  /** rua undefined: postmaster@<domain>. */
  readonly tlsRpt: false | { readonly rua?: string };
  readonly srv: boolean;
}

export const DEFAULT_SPF = 'v=spf1 mx -all';
export const DEFAULT_RECIPIENT_DELIMITER = '+';
export const DEFAULT_DKIM: DkimConfig = { enabled: true, selector: 'mailstack', keyBits: 2048 };

/** Per SMTP client address (postfix anvil); 0 is unlimited. relay.networks are exempt. */
export interface ClientLimits {
  readonly clientConnectionsPerMinute: number;
  readonly clientConcurrentConnections: number;
  readonly clientMessagesPerMinute: number;
  readonly clientAuthAttemptsPerMinute: number;
}

/** Generous for people and servers, tight for password guessing and floods. */
export const DEFAULT_CLIENT_LIMITS: ClientLimits = {
  clientConnectionsPerMinute: 60,
  clientConcurrentConnections: 20,
  clientMessagesPerMinute: 100,
  clientAuthAttemptsPerMinute: 10,
};

export const DEFAULT_MESSAGE_SIZE_BYTES = 26214400;
/** 0: unlimited. */
export const DEFAULT_MAILBOX_SIZE_BYTES = 0;
export const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock';
export const DEFAULT_BIND_ADDRESS = '0.0.0.0';
export const DEFAULT_NAME_PREFIX = 'mailstack';
