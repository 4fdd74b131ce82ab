"""Accepts all mail on port 25; writes each message to /sink/<n>.eml and its envelope to /sink/<n>.json."""
import asyncio
import itertools
import json

from aiosmtpd.controller import Controller

counter = itertools.count(1)


class Keep:
    async def handle_DATA(self, server, session, envelope):
        n = next(counter)
        with open(f"/sink/{n}.eml", "wb") as f:
            f.write(envelope.original_content)
        with open(f"/sink/{n}.json", "w") as f:
            json.dump({"ip": session.peer[0], "helo": session.host_name, "from": envelope.mail_from, "to": envelope.rcpt_tos}, f)
        return "250 2.0.0 kept"


controller = Controller(Keep(), hostname="0.0.0.0", port=25, server_hostname="sink.remote.test")
controller.start()
asyncio.get_event_loop().run_forever()
