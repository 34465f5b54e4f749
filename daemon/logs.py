"""Logging that cannot leak what participants wrote, and that an operator can read.

Our own log lines name outcomes, addresses and keyed hashes only. Two things need care:
aiosmtpd logs the DATA it reads at DEBUG (and commands at INFO), so its logger never goes below
WARNING; and an exception's message can quote a header, so exceptions are logged by class and
place only (`describe_exception`), never with `str(exc)` or a traceback's locals.

How much is logged (issue 10): `--log-level` is the level of mentormail's own loggers only;
every other logger (APScheduler's two lines per five-second poll, fontTools' ~75 per PDF letter,
aiosmtpd, imapclient, alembic) stays at WARNING whatever the level, which is also what keeps
libraries that echo message content at their chatty levels out of the log. At INFO, `run` says
one line per message and per mail sent, and nothing while idle.
"""

from __future__ import annotations

import logging
import re
import sys
import traceback

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
OURS = "mentormail"  # every logger of ours is named mentormail.something
LIBRARIES = logging.WARNING


def configure(level: str = "INFO") -> None:
    """One handler on the root logger (standard error); the root at WARNING, so that every
    library is; our own loggers at `level`."""
    logging.basicConfig(level=LIBRARIES, format=FORMAT, stream=sys.stderr, force=True)
    logging.getLogger(OURS).setLevel(level)


def describe_exception(exc: BaseException) -> str:
    """`StatementError at sqltypes.py:34 (from queries.py:120)`: where and what, never the text.

    For a library's exception the innermost frame of our own code is named too, since that is
    the line a maintainer will want.
    """
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return type(exc).__name__
    where = f"{type(exc).__name__} at {_place(frames[-1])}"
    ours = [f for f in frames if _OUR_CODE.search(f.filename)]
    if ours and ours[-1] is not frames[-1]:
        where += f" (from {_place(ours[-1])})"
    return where


_OUR_CODE = re.compile(r"/(daemon|parsers|store)/(?:\w+/)*\w+\.py$")


def _place(frame: traceback.FrameSummary) -> str:
    return f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno} in {frame.name}"
