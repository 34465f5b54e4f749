"""Authentication-Results (RFC 8601): did our own receiving server see DMARC or DKIM pass?

Pure. Anyone can write an Authentication-Results header, so only the verdict of the configured
trusted server counts, and of that server only its topmost header: a receiving server adds its
own above every header the sender wrote (and a well-run one strips look-alikes), so a copy further
down is the sender's forgery. The header is parsed with `authres` (a maintained RFC 8601 parser),
method by method: a `dkim=pass` inside another method's property (`smtp.mailfrom=dkim=pass`) or
a method merely named like one (`x-dkim=pass`) is not a DKIM pass.
"""

from __future__ import annotations

from authres import AuthenticationResultsHeader
from authres.core import AuthResError

# A receiving server's own header names a few methods in well under 2 KB; authres takes about
# 5 microseconds a byte, so this bounds the work on a hostile one to a few hundredths of a second.
MAX_HEADER_LENGTH = 16 * 1024

# Methods whose pass shows that the From domain itself vouched for the message.
_DMARC, _DKIM = "dmarc", "dkim"


def passes_for_domain(headers: tuple[str, ...], trusted_authserv_id: str, domain: str) -> bool:
    """True when the trusted server's topmost header reports dmarc=pass for `domain`
    (header.from) or dkim=pass with a signing domain (header.d, or the domain of header.i)
    equal to `domain`. Unparseable headers count as no pass."""
    domain, trusted = domain.lower(), trusted_authserv_id.lower()
    for header in headers:
        text = " ".join(header.split())
        # The authserv-id comes first; looking at it before parsing keeps the sender's own
        # headers, however long, from costing anything.
        if text.partition(";")[0].lower().split()[:1] != [trusted]:
            continue
        if len(text) > MAX_HEADER_LENGTH:
            return False
        parsed = _parse(text)
        if parsed is None or (parsed.authserv_id or "").lower() != trusted:
            return False
        return any(_vouches_for(result, domain) for result in parsed.results)
    return False


def _parse(text: str) -> AuthenticationResultsHeader | None:
    try:
        return AuthenticationResultsHeader.parse_value(text)
    except AuthResError:
        return None
    except Exception:  # noqa: BLE001 - the header is the sender's; a parser slip on it is no pass, never a crash
        return None


def _vouches_for(result: object, domain: str) -> bool:
    method = str(getattr(result, "method", "")).lower()
    if str(getattr(result, "result", "")).lower() != "pass" or method not in (_DMARC, _DKIM):
        return False
    found = {f"{p.type}.{p.name}".lower(): str(p.value).lower() for p in getattr(result, "properties", [])}
    if method == _DMARC:
        return found.get("header.from") == domain
    signer = found.get("header.d") or found.get("header.i", "").rpartition("@")[2]
    return signer == domain
