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

export const POSTFIX_MAPS = {
  virtualMailboxDomains: '/etc/postfix/virtual_mailbox_domains',
  virtualMailboxMaps: '/etc/postfix/virtual_mailbox_maps',
  virtualAliasMaps: '/etc/postfix/virtual_alias_maps',
  saslPasswords: '/etc/postfix/sasl_passwords',
  senderLoginMaps: '/etc/postfix/sender_login_maps',
} as const;

export const DOVECOT_PASSWD_FILE = '/etc/dovecot/users';

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
