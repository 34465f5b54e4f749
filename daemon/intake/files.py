"""Messages from files, for `mentormail ingest` and `explain`: one message, a Maildir, an mbox.

A path is a Maildir when it is a folder with cur/ and new/, an mbox when its first line starts
with "From ", and otherwise a single RFC 5322 message. `-` is standard input (an MTA's pipe).
"""

from __future__ import annotations

import mailbox
import sys
from collections.abc import Iterator
from pathlib import Path


class UnreadableInput(Exception):
    """`str()` names the path and the problem."""


def iter_messages(argument: str) -> Iterator[tuple[str, bytes]]:
    """(label, raw bytes) for every message the argument names."""
    if argument == "-":
        yield "<stdin>", sys.stdin.buffer.read()
        return
    path = Path(argument)
    if path.is_dir():
        if not ((path / "cur").is_dir() and (path / "new").is_dir()):
            raise UnreadableInput(f"{path}: a folder that is not a Maildir (no cur/ and new/)")
        box = mailbox.Maildir(path, factory=None, create=False)
        for key in sorted(box.keys()):
            with box.get_file(key) as handle:
                yield f"{path}/{key}", handle.read()
        return
    try:
        with path.open("rb") as handle:
            first = handle.readline()
    except OSError as exc:
        raise UnreadableInput(f"{path}: cannot read: {exc.strerror}") from None
    if first.startswith(b"From "):
        for index, message in enumerate(mailbox.mbox(path, factory=None, create=False)):
            yield f"{path}#{index + 1}", message.as_bytes()
        return
    yield str(path), path.read_bytes()
