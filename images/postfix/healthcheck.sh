#!/bin/bash
# Healthy when smtpd answers with a 220 greeting: on port 25 in the container's
# own network, or where the stack says (MAILSTACK_SMTP_PROBE=host:port) in the host's.
probe=${MAILSTACK_SMTP_PROBE:-127.0.0.1:25}
exec 3<>"/dev/tcp/${probe%:*}/${probe##*:}" || exit 1
IFS= read -r -t 5 greeting <&3 || exit 1
printf 'QUIT\r\n' >&3
[[ $greeting == 220* ]]
