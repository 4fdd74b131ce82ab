#!/bin/bash
# Healthy when the master process runs and postfix's sockets (LMTP, SASL, quota-status) exist.
pid=$(cat /run/dovecot/master.pid 2>/dev/null) || exit 1
kill -0 "$pid" || exit 1
[ -S /run/mailstack/sockets/lmtp ] && [ -S /run/mailstack/sockets/auth ] && [ -S /run/mailstack/sockets/quota-status ]
