#!/bin/bash
# Healthy when smtpd answers on port 25 with a 220 greeting.
exec 3<>/dev/tcp/127.0.0.1/25 || exit 1
IFS= read -r -t 5 greeting <&3 || exit 1
printf 'QUIT\r\n' >&3
[[ $greeting == 220* ]]
