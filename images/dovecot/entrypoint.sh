#!/bin/bash
# Refuse to start on a configuration dovecot rejects or warns about, with the
# reason on stderr.
set -euo pipefail

fail() { echo "mailstack-dovecot: refusing to start: $*" >&2; exit 78; }

[ -s /etc/dovecot/dovecot.conf ] || fail "/etc/dovecot/dovecot.conf is missing or empty"

# A certificate that is missing, unreadable or not matching its key would leave
# TLS silently off (postfix) or fail at the first client (dovecot): check now.
cert=/etc/mailstack/tls/fullchain.pem key=/etc/mailstack/tls/privkey.pem
[ -s "$cert" ] || fail "TLS certificate $cert is missing or empty"
[ -s "$key" ] || fail "TLS private key $key is missing or empty"
certpub=$(openssl x509 -in "$cert" -noout -pubkey 2>/dev/null) || fail "TLS certificate $cert is not a PEM certificate"
keypub=$(openssl pkey -in "$key" -pubout 2>/dev/null) || fail "TLS private key $key is not a PEM private key"
[ "$certpub" = "$keypub" ] || fail "TLS private key $key does not belong to the certificate $cert"
chmod 0600 "$key"
# The directory container publishes the passwd-file (root:dovecot 0640); dovecot re-reads it when it changes.
[ -e /etc/dovecot/directory/users ] || fail "the passwd-file /etc/dovecot/directory/users is not published (the directory container publishes it)"

# A new mail volume starts root-owned on some engines; Maildirs belong to vmail.
chown vmail:vmail /var/mail

if ! report=$(doveconf -n -x 2>&1 >/dev/null); then fail "doveconf: $report"; fi
[ -z "$report" ] || fail "doveconf: $report"

exec "$@"
