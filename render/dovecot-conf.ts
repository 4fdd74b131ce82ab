/** Renders dovecot.conf (dovecot 2.3): one file, no conf.d. */
import {
  DOVECOT_PASSWD_FILE,
  SOCKET_DIR,
  INTERMEDIATE_CIPHERS,
  MAIL_DIR,
  TLS_CERT_FILE,
  TLS_KEY_FILE,
  VMAIL_UID,
} from './layout';
import { CONTAINER_PORTS, ReadingService } from '../config/model';
import { MailSystemModel } from './model';

export function renderDovecotConf(model: MailSystemModel): string {
  const on = (service: ReadingService) => model.protocols.includes(service);
  // Port 0: the listener is not opened at all (protocols left out of mailstack.yaml).
  const port = (service: ReadingService) => (on(service) ? CONTAINER_PORTS[service] : 0);
  const protocols = [...(on('imap') || on('imaps') ? ['imap'] : []), ...(on('pop3') || on('pop3s') ? ['pop3'] : []), 'lmtp'];
  return `# dovecot.conf, rendered by mailstack from mailstack.yaml. Changes here are overwritten.
protocols = ${protocols.join(' ')}
listen = *
hostname = ${model.hostname}
log_path = /dev/stderr
info_log_path = /dev/stdout

# TLS required before any authentication; LOGIN for older Outlook clients.
ssl = required
ssl_cert = <${TLS_CERT_FILE}
ssl_key = <${TLS_KEY_FILE}
ssl_min_protocol = TLSv1.2
ssl_cipher_list = ${INTERMEDIATE_CIPHERS}
ssl_prefer_server_ciphers = yes
disable_plaintext_auth = yes
auth_mechanisms = plain login
auth_username_format = %Lu
auth_failure_delay = 2 secs

passdb {
  driver = passwd-file
  args = scheme=SHA512-CRYPT username_format=%Lu ${DOVECOT_PASSWD_FILE}
}
userdb {
  driver = passwd-file
  args = username_format=%Lu ${DOVECOT_PASSWD_FILE}
  default_fields = uid=vmail gid=vmail home=${MAIL_DIR}/%Ld/%Ln
}

# Maildir on the mail volume, owned by vmail.
mail_location = maildir:~/Maildir
mail_uid = vmail
mail_gid = vmail
first_valid_uid = ${VMAIL_UID}
last_valid_uid = ${VMAIL_UID}
mail_plugins = $mail_plugins quota
recipient_delimiter = ${model.recipientDelimiter}
pop3_uidl_format = %08Xu%08Xv

namespace inbox {
  inbox = yes
  separator = /
  mailbox Drafts {
    special_use = \\Drafts
    auto = subscribe
  }
  mailbox Sent {
    special_use = \\Sent
    auto = subscribe
  }
  mailbox Junk {
    special_use = \\Junk
    auto = subscribe
  }
  mailbox Trash {
    special_use = \\Trash
    auto = subscribe
  }
}

# Quota per mailbox from the passwd-file (userdb_quota_rule); postfix asks the
# quota-status service at RCPT so a full mailbox is refused, not bounced later.
plugin {
  quota = maildir:User quota
  quota_status_success = DUNNO
  quota_status_nouser = DUNNO
  quota_status_overquota = "552 5.2.2 Mailbox is full"
}

service imap-login {
  inet_listener imap {
    port = ${port('imap')}
  }
  inet_listener imaps {
    port = ${port('imaps')}
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    port = ${port('pop3')}
  }
  inet_listener pop3s {
    port = ${port('pop3s')}
    ssl = yes
  }
}

# Postfix delivers over LMTP and authenticates SMTP clients over SASL, both
# through unix sockets on the volume shared with the postfix container.
service lmtp {
  unix_listener ${SOCKET_DIR}/lmtp {
    mode = 0600
    user = postfix
    group = postfix
  }
}
service quota-status {
  executable = quota-status -p postfix
  unix_listener ${SOCKET_DIR}/quota-status {
    mode = 0660
    user = postfix
    group = postfix
  }
  client_limit = 1
}
service auth {
  unix_listener ${SOCKET_DIR}/auth {
    mode = 0660
    user = postfix
    group = postfix
  }
}
protocol imap {
  mail_plugins = $mail_plugins imap_quota
}
protocol lmtp {
  postmaster_address = postmaster@${model.domains[0]}
}
`;
}
