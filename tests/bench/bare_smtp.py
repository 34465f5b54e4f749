"""The SMTP ceiling: a bare aiosmtpd `Controller` whose handler only answers `250 OK`.

Run as its own process (`python bare_smtp.py PORT`) so that it stands where the daemon stands:
one process with its own interpreter and GIL, talked to over a real socket. Run in the
benchmark's own process, it would share the GIL with the client threads and look slower than
it is. It stops on SIGTERM.
"""

from __future__ import annotations

import signal
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

# The daemon's default `max_message_bytes` (settings.py); the server options match the daemon's
# (service.py) so that only the handler differs.
DATA_SIZE_LIMIT = 26_214_400


class AcceptEverything:
    """No RCPT check, no parsing, no store: the least a handler can do."""

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return "250 OK"


def serve(port: int) -> None:
    controller = Controller(
        AcceptEverything(),
        hostname="127.0.0.1",
        port=port,
        data_size_limit=DATA_SIZE_LIMIT,
        enable_SMTPUTF8=True,
        ident="bare",
    )
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    serve(int(sys.argv[1]))
