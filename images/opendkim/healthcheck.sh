#!/bin/bash
# Healthy when the milter runs and its socket exists for postfix.
pid=$(cat /run/opendkim/opendkim.pid 2>/dev/null) || exit 1
kill -0 "$pid" && [ -S /run/mailstack/sockets/opendkim.sock ]
