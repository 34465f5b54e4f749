"""A file attached to one of the program's mails (a letter's PDF, the liaison summary's CSV).

Its own module so that the planner's `DueMail` can carry attachments without importing
`compose.py`, which imports the planner.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # "application/pdf", "text/csv"
    data: bytes  # UTF-8 for a text/* type
