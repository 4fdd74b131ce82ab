"""Accepts mail on port 25; writes each message to /sink/<n>.eml and its envelope to /sink/<n>.json.

With SINK_USER and SINK_PASSWORD set, it plays a smarthost: STARTTLS required,
then AUTH (PLAIN/LOGIN) with exactly those credentials, before any mail.
"""
import asyncio
import itertools
import json
import os
import ssl
import subprocess

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

counter = itertools.count(1)
USER = os.environ.get("SINK_USER")
PASSWORD = os.environ.get("SINK_PASSWORD")


class Keep:
    async def handle_DATA(self, server, session, envelope):
        n = next(counter)
        with open(f"/sink/{n}.eml", "wb") as f:
            f.write(envelope.original_content)
        with open(f"/sink/{n}.json", "w") as f:
            json.dump({
                "ip": session.peer[0],
                "helo": session.host_name,
                "from": envelope.mail_from,
                "to": envelope.rcpt_tos,
                "tls": session.ssl is not None,
                "authUser": session.auth_data.login.decode() if session.auth_data else None,
            }, f)
        return "250 2.0.0 kept"


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False, auth_data=auth_data)


options = {}
if USER:
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", "/tmp/key.pem", "-out", "/tmp/cert.pem", "-subj", "/CN=sink.remote.test", "-days", "1"],
                   check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain("/tmp/cert.pem", "/tmp/key.pem")
    options = dict(tls_context=context, require_starttls=True, auth_required=True, auth_require_tls=True, authenticator=authenticate)

controller = Controller(Keep(), hostname="0.0.0.0", port=25, server_hostname="sink.remote.test", **options)
controller.start()
asyncio.get_event_loop().run_forever()
