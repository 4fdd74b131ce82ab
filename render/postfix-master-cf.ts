/**
 * Renders postfix's master.cf: the three SMTP listeners plus Debian's stock
 * internal services. chroot is off: the container is the jail, and the shared
 * dovecot sockets are mounted under the queue directory either way.
 */

import { MailSystemModel } from './model';

/** The listeners, on their standard ports inside the container. */
const LISTENERS = `\
# service  type  private unpriv  chroot  wakeup  maxproc command
# SMTP from other servers (MX): STARTTLS offered, no AUTH.
smtp       inet  n       -       n       -       -       smtpd
# Submission (RFC 6409): STARTTLS required, then AUTH, then relay.
submission inet  n       -       n       -       -       smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
  -o milter_macro_daemon_name=ORIGINATING
  -o milter_default_action=tempfail
# Submission over implicit TLS (RFC 8314).
submissions inet n       -       n       -       -       smtpd
  -o syslog_name=postfix/submissions
  -o smtpd_tls_wrappermode=yes
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
  -o milter_macro_daemon_name=ORIGINATING
  -o milter_default_action=tempfail
`;

const INTERNAL_SERVICES = `\
pickup     unix  n       -       n       60      1       pickup
cleanup    unix  n       -       n       -       0       cleanup
qmgr       unix  n       -       n       300     1       qmgr
tlsmgr     unix  -       -       n       1000?   1       tlsmgr
rewrite    unix  -       -       n       -       -       trivial-rewrite
bounce     unix  -       -       n       -       0       bounce
defer      unix  -       -       n       -       0       bounce
trace      unix  -       -       n       -       0       bounce
verify     unix  -       -       n       -       1       verify
flush      unix  n       -       n       1000?   0       flush
proxymap   unix  -       -       n       -       -       proxymap
proxywrite unix  -       -       n       -       1       proxymap
smtp       unix  -       -       n       -       -       smtp
relay      unix  -       -       n       -       -       smtp
  -o syslog_name=postfix/$service_name
showq      unix  n       -       n       -       -       showq
error      unix  -       -       n       -       -       error
retry      unix  -       -       n       -       -       error
discard    unix  -       -       n       -       -       discard
lmtp       unix  -       -       n       -       -       lmtp
anvil      unix  -       -       n       -       1       anvil
scache     unix  -       -       n       -       1       scache
postlog    unix-dgram n  -       n       -       1       postlogd
`;

/** Extra SMTP listeners (ports.extraSmtp): the same policy as port 25, on another port. */
const extraListener = (port: number) => `${String(port).padEnd(10)} inet  n       -       n       -       -       smtpd\n  -o syslog_name=postfix/smtp-${port}\n`;

export function renderMasterCf(model: Pick<MailSystemModel, 'extraSmtpPorts'>): string {
  const extras = [...model.extraSmtpPorts].sort((a, b) => a - b).map(extraListener).join('');
  return `# master.cf, rendered by mailstack. Changes here are overwritten.\n${LISTENERS}${extras}${INTERNAL_SERVICES}`;
}
