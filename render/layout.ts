/**
 * Where things live inside the containers. The images (images/*) create these
 * directories; the renderers point the daemons at them.
 */

/** The shared socket volume as dovecot sees it. */
export const SOCKET_DIR = '/run/mailstack/sockets';
/** The same volume inside postfix's queue directory (so it works chrooted or not). */
export const POSTFIX_SOCKET_DIR = '/var/spool/postfix/private/mailstack';
/** Socket paths relative to postfix's queue_directory, as main.cf wants them. */
export const POSTFIX_LMTP_SOCKET = 'private/mailstack/lmtp';
export const POSTFIX_AUTH_SOCKET = 'private/mailstack/auth';
export const POSTFIX_QUOTA_SOCKET = 'private/mailstack/quota-status';

export const POSTFIX_QUEUE_DIR = '/var/spool/postfix';
/** The mail volume: one Maildir per mailbox under <domain>/<user>. */
export const MAIL_DIR = '/var/mail';

export const TLS_CERT_FILE = '/etc/mailstack/tls/fullchain.pem';
export const TLS_KEY_FILE = '/etc/mailstack/tls/privkey.pem';

/**
 * The mail directory (domains, mailboxes, aliases, logins) changes often; the
 * directory container publishes it into a volume per daemon, which each reads
 * live (mounted read-only here), so a change replaces neither daemon.
 */
export const POSTFIX_DIRECTORY_DIR = '/etc/postfix/directory';
export const DOVECOT_DIRECTORY_DIR = '/etc/dovecot/directory';
/** In the directory container: the files as uploaded, one folder per daemon... */
export const DIRECTORY_UPLOAD_DIR = '/etc/mailstack/directory';
/** ...and the daemons' directory volumes, where it publishes them. */
export const DIRECTORY_PUBLISH_DIR = '/var/lib/mailstack/directory';
/** Written last when publishing: a digest of the files, which postfix acknowledges once it has reloaded them. */
export const DIRECTORY_SERIAL = 'serial';
/** Postfix's acknowledgement, refreshed every second, on the socket volume the directory container also mounts. */
export const DIRECTORY_APPLIED = 'directory-applied';

export const POSTFIX_MAPS = {
  virtualMailboxDomains: `${POSTFIX_DIRECTORY_DIR}/virtual_mailbox_domains`,
  virtualMailboxMaps: `${POSTFIX_DIRECTORY_DIR}/virtual_mailbox_maps`,
  virtualAliasMaps: `${POSTFIX_DIRECTORY_DIR}/virtual_alias_maps`,
  senderLoginMaps: `${POSTFIX_DIRECTORY_DIR}/sender_login_maps`,
  saslPasswords: '/etc/postfix/sasl_passwords',
} as const;

export const DOVECOT_PASSWD_FILE = `${DOVECOT_DIRECTORY_DIR}/users`;

/** vmail's uid, the same in the postfix and dovecot images. */
export const VMAIL_UID = 5000;

/**
 * Mozilla's "intermediate" TLS policy (TLS 1.2+, AEAD ciphers with forward
 * secrecy), shared by postfix and dovecot.
 */
export const INTERMEDIATE_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'DHE-RSA-AES128-GCM-SHA256',
  'DHE-RSA-AES256-GCM-SHA384',
  'DHE-RSA-CHACHA20-POLY1305',
].join(':');
