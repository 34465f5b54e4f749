"""Authentication-Results (RFC 8601): did our own receiving server see DMARC or DKIM pass?

Pure. Only headers whose authserv-id is the configured trusted one count: anyone can write an
Authentication-Results header, and only the receiving server's own (which a well-run server
strips from incoming mail before adding its own) says anything.
"""

from __future__ import annotations

import re

_RESULT = re.compile(r"\b(dmarc|dkim)\s*=\s*(\w+)((?:\s+[\w.-]+\s*=\s*[^\s;]+)*)", re.IGNORECASE)
_PROPERTY = re.compile(r"([\w.-]+)\s*=\s*([^\s;]+)")
_COMMENT = re.compile(r"\([^()]*\)")


def passes_for_domain(headers: tuple[str, ...], trusted_authserv_id: str, domain: str) -> bool:
    """True when a trusted header reports dmarc=pass for `domain` (header.from) or dkim=pass
    with a signing domain (header.d, or the domain of header.i) equal to `domain`."""
    domain = domain.lower()
    for header in headers:
        text = _COMMENT.sub(" ", header)
        authserv_id, _, results = text.partition(";")
        if authserv_id.strip().lower().split()[:1] != [trusted_authserv_id.lower()]:
            continue
        for method, result, properties in _RESULT.findall(results.lower()):
            if result != "pass":
                continue
            found = dict(_PROPERTY.findall(properties))
            if method == "dmarc" and found.get("header.from") == domain:
                return True
            signer = found.get("header.d") or found.get("header.i", "").rpartition("@")[2]
            if method == "dkim" and signer == domain:
                return True
    return False
