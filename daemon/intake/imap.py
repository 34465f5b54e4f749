"""IMAP intake: watch one folder with IDLE and hand each new message's header block to intake.

Transport only (DESIGN.md section 2): this module moves bytes to intake (`Intake.ingest_many`)
and, after the outcome is committed, removes the copy or leaves it where it is. What a message
*is* is decided by intake and the router.

Confidentiality (section 3): the watcher fetches `BODY.PEEK[HEADER]` only. The full message
(`BODY.PEEK[]`) is fetched solely through the `load_full` callable, which intake calls only for
mail whose sender is not a participant (to read a bounce). Every fetch is a PEEK, so the
watcher never sets `\\Seen`: what stays in the folder still looks unread to a person.

Never lose mail, never double-count (section 4):

- Messages are read in UID order, in batches of `BATCH_SIZE`: one FETCH of the header blocks,
  then one `Intake.ingest_many`, which records the batch in one transaction with the checkpoint
  (UIDVALIDITY, last UID) of what it recorded. A message is removed from the folder only after
  its batch has committed.
- If a message cannot be recorded (the store failed), neither it nor anything after it in the
  folder is recorded or removed: the session ends, and the next one starts again from the
  checkpoint, which names the last message recorded before it.
- A catch-up reads every UID above the checkpoint. When UIDVALIDITY has changed, or there is no
  checkpoint, that is the whole folder: re-reading is safe because the store de-duplicates on
  the keyed Message-ID hash.

The start-of-session sweep. A crash (or a dropped connection) between a commit and the removal
leaves logged copies at or below the checkpoint in the folder. Outcomes are not stored per UID,
so at the start of every session, when `after_logging` removes copies, the watcher re-ingests
every message still in the folder at or below the checkpoint (header block only, as always) and
applies the same rule as for new mail. Re-ingesting is idempotent: a logged contact comes back as
`duplicate`, machine mail as its own kind, and nothing is counted twice. In a tidy folder only
the messages that were meant to stay are there, so the sweep is short. With `keep` there is
nothing to sweep and it is skipped.

Which copies go: those whose outcome says `removed_from_inbox` (see `outcomes.py`). A duplicate
goes as its first copy went, so a question seen again on a sweep is the copy kept for a person.

Connections. Any failure (socket, TLS, IMAP protocol, store) ends the session; it is logged by
exception class and place only (`describe_exception`: an IMAP error's text can quote a header),
and the watcher reconnects after 1 s, doubling to 60 s, back to 1 s after a session that caught
up. A refused login is different: trying a wrong password again every few seconds gets the
account locked by many servers, so it is logged as `authentication failed for USER at HOST` with
the wait before the next try, which starts at `auth_retry_seconds` (a minute by default) and
doubles after each further refusal up to an hour (`AUTH_RETRY_MAX`), until a login succeeds.

Signing in with a token (`auth = "oauth2"`, DESIGN.md section 7, "OAuth2"). The watcher keeps one
`TokenSource` for its life, so a reconnect reuses the token until it nears its expiry and then
gets a new one: a token that expires while the session idles does not matter (servers check it
at login), and the next login, after the server ends the session for whatever reason, has a
fresh one. SASL XOAUTH2, or OAUTHBEARER when the server offers only that (`auth.sasl.choose`). A
refused token is forgotten and, if it came from the cache, the login is tried once more with a
new one at once (it may have been revoked early); a new token refused, or the token endpoint
refusing the client (`oauth2: invalid_client`), is a refused login like a wrong password, with
the same backoff and the reason in the line: `authentication failed for USER at HOST
(oauth2: invalid_client); next try in N`. A token endpoint that cannot be reached is a failed
connection (1 to 60 s).

IDLE is re-issued every `idle_seconds` (before the 29-minute limit of RFC 2177) and polled in
one-second slices so that a stop request is seen within about a second. After each renewal, and
after a `* NO` warning during IDLE, the folder is selected again to compare UIDVALIDITY: a server
need not end the session when the folder is deleted and made again (Dovecot does not).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from imapclient import IMAPClient, SocketTimeout
from imapclient.exceptions import IMAPClientError, LoginError
from imapclient.imapclient import TRASH

from ...store import locks, queries
from ...store.outcomes import ImapCheckpoint, Outcome, Source, Transport
from ..auth import TokenRefused, TokenSource, TokenUnavailable, sasl, token_source
from ..logs import describe_exception
from .ingest import Arrival

if TYPE_CHECKING:
    from ..settings import ImapIntakeSettings
    from .ingest import Intake

log = logging.getLogger("mentormail.imap")

# One FETCH round trip per batch: at a few KB of header each, about a megabyte in hand at most.
BATCH_SIZE = 200
# How often a daemon standing by checks whether the mailbox's watcher (another daemon) is gone.
STANDBY_POLL = 15.0

# How long one IDLE poll blocks: the longest a stop request waits to be noticed while idle.
IDLE_CHECK_SECONDS = 1.0
# An idle_check that returns nothing well before its timeout means the socket was readable but
# held no line: the server closed the connection. A few in a row, to tolerate a split TLS record.
_EARLY_EMPTY_LIMIT = 3
BACKOFF_FIRST = 1.0
BACKOFF_MAX = 60.0
# The longest wait between two logins after the server refused one (the first is the setting's).
AUTH_RETRY_MAX = 3600.0
# A server that says it is throttling the mailbox (Exchange Online: `NO [THROTTLED]`, `NO ...
# Server busy`) is left alone this long, then twice as long while it goes on saying so, up to
# half an hour: reconnecting within seconds would only extend the throttling.
THROTTLED_FIRST = 60.0
THROTTLED_MAX = 1800.0
CONNECT_TIMEOUT = 30.0
# Per socket read while a command runs (IDLE polling sets its own). A server that stops answering
# mid-command costs at most this long before the watcher reconnects.
READ_TIMEOUT = 60.0
# Only for servers without IDLE (rare): how often to look for new mail.
POLL_SECONDS = 60.0

_HEADER = b"BODY[HEADER]"
_FULL = b"BODY[]"


class _RecordFailed(Exception):
    """A message could not be recorded: already logged with its UID, the session just has to end."""


class _ConnectionClosed(ConnectionError):
    """The server said BYE, or closed the socket, while we were idle."""


class OAuth2LoginRefused(LoginError):
    """A login with a token was refused: by the server, or by the token endpoint before it.
    `reason` is one line that is safe to log: `oauth2: invalid_client`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ImapWatcher:
    """Watches `settings.folder` until `stop` is set; `run()` is the thread's target.

    `caught_up` is set once a session has read everything in the folder and is waiting for new
    mail, and cleared when the session ends: a health signal, and what tests wait on.
    """

    def __init__(
        self,
        settings: ImapIntakeSettings,
        intake: Intake,
        program_address: str,
        stop: threading.Event,
    ) -> None:
        if settings.after_logging != "keep" and settings.after_logging != "delete" and not settings.move_to:
            raise ValueError(f"after_logging: {settings.after_logging!r} is not delete, keep or move:FOLDER")
        self.settings = settings
        self.intake = intake
        self.program_address = program_address
        self.stop = stop
        self.mailbox_key = f"{settings.username}@{settings.host}/{settings.folder}"
        self.caught_up = threading.Event()
        self._position = 0  # the highest UID this session has dealt with
        self._auth_retry = float(settings.auth_retry_seconds)  # the wait after the next refused login
        self.tokens = tokens_for(settings)  # None with a password

    # --- the loop --------------------------------------------------------------------------

    def run(self) -> None:
        delay = BACKOFF_FIRST
        standing_by = False
        throttled_wait = THROTTLED_FIRST
        while not self.stop.is_set():
            refused: LoginError | None = None
            throttled = False
            try:
                # One watcher per mailbox, however many daemons share the database: the others
                # stand by and take over when its daemon dies (its lock goes with its connection).
                with self.intake.store.lock_if_free(locks.imap_watcher(self.mailbox_key)) as ours:
                    if not ours:
                        if not standing_by:
                            log.info("another daemon watches %s; standing by", self.mailbox_key)
                        standing_by = True
                        self.stop.wait(STANDBY_POLL)
                        continue
                    standing_by = False
                    self._session()
            except _RecordFailed:
                pass  # logged by _process, with the UID
            except LoginError as exc:
                throttled = _throttled(exc)
                refused = None if throttled else exc
            except TokenUnavailable as exc:  # its text is ours, one line, made to be logged
                log.warning("IMAP session for %s ended: %s", self.mailbox_key, exc)
            except Exception as exc:  # any transport failure: reconnect, never die
                throttled = _throttled(exc)
                if not throttled:
                    log.warning("IMAP session for %s ended: %s", self.mailbox_key, describe_exception(exc))
            if self.caught_up.is_set():
                delay = BACKOFF_FIRST  # that session worked: the next failure starts small again
                throttled_wait = THROTTLED_FIRST
            self.caught_up.clear()
            if self.stop.is_set():
                break
            if throttled:
                next_try = _wait(throttled_wait)
                log.warning("%s is throttling %s; next try in %s", self.settings.host, self.mailbox_key, next_try)
                self.stop.wait(throttled_wait)
                throttled_wait = min(throttled_wait * 2, THROTTLED_MAX)
                continue
            if refused is not None:
                wait = self._auth_retry
                self._auth_retry = min(wait * 2, AUTH_RETRY_MAX)
                self._log_refusal(refused, wait)
                self.stop.wait(wait)
                continue
            log.info("reconnecting to %s in %.0f s", self.settings.host, delay)
            self.stop.wait(delay)  # returns at once when stop is set
            delay = min(delay * 2, BACKOFF_MAX)
        log.info("IMAP watcher for %s stopped", self.mailbox_key)

    def _log_refusal(self, refused: LoginError, wait: float) -> None:
        user, host = self.settings.username, self.settings.host
        if isinstance(refused, OAuth2LoginRefused):
            oauth2 = self.settings.oauth2
            where = f"[{oauth2.table}]" if oauth2 else "[oauth2]"
            log.error(
                "authentication failed for %s at %s (%s); next try in %s (check %s and the app's mailbox access)",
                user,
                host,
                refused.reason,
                _wait(wait),
                where,
            )
        else:
            log.error(
                "authentication failed for %s at %s; next try in %s (check intake.imap's username and password)",
                user,
                host,
                _wait(wait),
            )

    def _session(self) -> None:
        client = connect(self.settings, self.tokens)
        self._auth_retry = float(self.settings.auth_retry_seconds)  # logged in: a later refusal starts afresh
        graceful = False
        try:
            uidvalidity = self._select(client)
            self._catch_up_at_start(client, uidvalidity)
            while not self.stop.is_set():
                self.caught_up.set()
                news = self._wait_for_news(client)
                if self.stop.is_set():
                    break
                if not news:
                    # A renewal, or a warning from the server: make sure the folder is still the
                    # one we read. Dovecot, for one, does not end the session when the selected
                    # folder is deleted and made again; it goes on showing the old UIDs, and
                    # only a new SELECT shows the new UIDVALIDITY.
                    current = self._select(client)
                    if current != uidvalidity:
                        uidvalidity = current
                        self._catch_up_at_start(client, uidvalidity)
                        continue
                self._process(client, self._uids_above(client, self._position), uidvalidity)
            graceful = True
        finally:
            close(client, graceful=graceful)

    # --- connecting ------------------------------------------------------------------------

    def _select(self, client: IMAPClient) -> int:
        move_to = self.settings.move_to
        if move_to and not client.folder_exists(move_to):
            # MOVE into a missing folder fails on every message: create it once, knowingly.
            client.create_folder(move_to)
            log.info("created folder %s for logged copies", move_to)
        # With "keep" the watcher has no business changing anything: EXAMINE makes that certain.
        selected = client.select_folder(self.settings.folder, readonly=self.settings.after_logging == "keep")
        return int(selected[b"UIDVALIDITY"])

    # --- reading ---------------------------------------------------------------------------

    def _catch_up_at_start(self, client: IMAPClient, uidvalidity: int) -> None:
        checkpoint = self._checkpointed_uid(uidvalidity)
        # The sweep (module docstring): with removal on, everything still here is looked at.
        first = 1 if self.settings.after_logging != "keep" else checkpoint + 1
        uids = self._uids_above(client, first - 1)
        swept = sum(1 for uid in uids if uid <= checkpoint)
        log.info(
            "%s: UIDVALIDITY %d, checkpoint UID %d; %d new message(s), %d already logged still in the folder",
            self.mailbox_key,
            uidvalidity,
            checkpoint,
            len(uids) - swept,
            swept,
        )
        self._position = checkpoint
        self._process(client, uids, uidvalidity)

    def _checkpointed_uid(self, uidvalidity: int) -> int:
        """The last UID committed for this folder, or 0 when the folder must be read in full."""
        with self.intake.store.session() as session:
            row = queries.load_checkpoint(session, self.mailbox_key)
        if row is None:
            return 0
        if row.uidvalidity != uidvalidity:
            # The server renumbered the folder: old UIDs mean nothing now. Read it all again;
            # de-duplication by Message-ID hash keeps the counts right.
            log.warning(
                "%s: UIDVALIDITY changed from %d to %d, reading the whole folder again",
                self.mailbox_key,
                row.uidvalidity,
                uidvalidity,
            )
            return 0
        return row.last_uid

    @staticmethod
    def _uids_above(client: IMAPClient, uid: int) -> list[int]:
        # "N:*" always matches the highest UID, even when it is below N: filter.
        return sorted(u for u in client.search(["UID", f"{uid + 1}:*"]) if u > uid)

    def _process(self, client: IMAPClient, uids: Sequence[int], uidvalidity: int) -> None:
        for batch in _batches(uids, BATCH_SIZE):
            if self.stop.is_set():
                return
            headers = self._fetch_headers(client, batch)
            present = [uid for uid in batch if uid in headers]  # else expunged by someone else since the SEARCH
            # The whole batch in one transaction, its checkpoint in it (intake's group commit).
            results = self.intake.ingest_many(
                [self._arrival(client, uid, headers[uid], uidvalidity) for uid in present]
            )
            logged: list[int] = []  # committed, and to be removed
            for uid, result in zip(present, results, strict=True):
                if isinstance(result, BaseException):
                    # What was committed before the failure can still go; the failed message and
                    # those after it stay, and the next session starts again from the checkpoint.
                    self._after_logging(client, logged)
                    log.error(
                        "%s: could not record UID %d; it stays in the folder and will be retried: %s",
                        self.mailbox_key,
                        uid,
                        describe_exception(result),
                    )
                    raise _RecordFailed from result
                if self._removable(result):
                    logged.append(uid)
            self._position = max(self._position, batch[-1])
            self._after_logging(client, logged)

    @staticmethod
    def _fetch_headers(client: IMAPClient, uids: Sequence[int]) -> dict[int, bytes]:
        response = client.fetch(uids, ["BODY.PEEK[HEADER]"])
        # Unsolicited FETCH responses (flag changes by other clients) can be mixed in, keyed
        # by sequence number: keep only entries that carry the header we asked for.
        return {uid: data[_HEADER] or b"" for uid, data in response.items() if _HEADER in data}

    def _arrival(self, client: IMAPClient, uid: int, header: bytes, uidvalidity: int) -> Arrival:
        source = Source(
            Transport.IMAP,
            envelope_recipients=(self.program_address,),
            checkpoint=ImapCheckpoint(self.mailbox_key, uidvalidity, uid),
        )
        return Arrival(header, source, load_full=self._loader(client, uid, header))

    @staticmethod
    def _loader(client: IMAPClient, uid: int, header: bytes) -> Callable[[], bytes]:
        """What intake calls, for non-participant mail only, to read past the header block."""

        def load_full() -> bytes:
            data = client.fetch([uid], ["BODY.PEEK[]"]).get(uid, {}).get(_FULL)
            return data if data is not None else header  # gone meanwhile: the header is all we have

        return load_full

    # --- after logging ---------------------------------------------------------------------

    def _removable(self, outcome: Outcome) -> bool:
        return self.settings.after_logging != "keep" and outcome.removed_from_inbox

    def _after_logging(self, client: IMAPClient, uids: list[int]) -> None:
        if not uids or self.settings.after_logging == "keep":
            return
        move_to = self.settings.move_to
        if move_to is None:
            self._delete(client, uids)
        elif client.has_capability("MOVE"):
            client.move(uids, move_to)
        else:
            client.copy(uids, move_to)
            self._delete(client, uids)

    def _delete(self, client: IMAPClient, uids: list[int]) -> None:
        if client.has_capability("X-GM-EXT-1"):
            self._delete_on_gmail(client, uids)
        else:
            _expunge(client, uids)

    def _delete_on_gmail(self, client: IMAPClient, uids: list[int]) -> None:
        """Gmail's IMAP does not delete what is expunged from a folder: it takes the folder's label
        off, and the message stays in All Mail and its other labels (or goes to Trash, for 30
        days, as the account's IMAP settings say). A copy to Trash takes every label off; expunged
        from Trash, it is gone (DESIGN.md section 3: the copy is removed from the shared inbox).
        The copies are found in Trash by their Message-ID (the header only, as everywhere here),
        also one that the account's settings put there themselves; one without a Message-ID (rare:
        every mail client writes one) stays in Trash until Gmail empties it, after 30 days."""
        trash = client.find_special_folder(TRASH)
        if trash is None or trash == self.settings.folder:
            _expunge(client, uids)
            return
        fetched = client.fetch(uids, ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"])
        message_ids = {
            _message_id(data.get(b"BODY[HEADER.FIELDS (MESSAGE-ID)]", b"")) for data in fetched.values()
        } - {""}
        client.copy(uids, trash)
        _expunge(client, uids)
        client.select_folder(trash)
        try:
            in_trash = sorted({uid for mid in message_ids for uid in client.search(["HEADER", "Message-ID", mid])})
            if in_trash:
                _expunge(client, in_trash)
        finally:
            client.select_folder(self.settings.folder)

    # --- waiting ---------------------------------------------------------------------------

    def _wait_for_news(self, client: IMAPClient) -> bool:
        """IDLE until the server reports a change (True), or until `idle_seconds` pass or the
        server sends a warning (False), or stop is set."""
        if not client.has_capability("IDLE"):
            self.stop.wait(POLL_SECONDS)
            return False
        client.idle()
        deadline = time.monotonic() + self.settings.idle_seconds
        early_empty = 0
        news = False
        while not self.stop.is_set() and time.monotonic() < deadline:
            started = time.monotonic()
            responses = client.idle_check(timeout=IDLE_CHECK_SECONDS)
            if any(_is_bye(r) for r in responses):
                raise _ConnectionClosed("the server said BYE during IDLE")
            if any(_is_warning(r) for r in responses):
                break  # "* NO ...": something is wrong with the folder; news stays False
            if any(not _is_keepalive(r) for r in responses):
                news = True  # EXISTS, EXPUNGE, FETCH...: look at the folder
                break
            if responses or time.monotonic() - started >= IDLE_CHECK_SECONDS / 2:
                early_empty = 0
            else:
                early_empty += 1
                if early_empty >= _EARLY_EMPTY_LIMIT:
                    raise _ConnectionClosed("the connection closed during IDLE")
        client.idle_done()
        return news


def tokens_for(settings: ImapIntakeSettings) -> TokenSource | None:
    """Where the logins of `settings` get their tokens; None when they use a password."""
    if settings.auth != "oauth2" or settings.oauth2 is None:
        return None
    return token_source(settings.oauth2)


def connect(settings: ImapIntakeSettings, tokens: TokenSource | None = None) -> IMAPClient:
    """A logged-in client (TLS as configured); `LoginError` when the server refuses the login
    (`OAuth2LoginRefused`, with its reason, over oauth2), `TokenUnavailable` when no token could
    be had. The watcher's connection, with its `tokens` kept across sessions."""
    return connect_with(settings, tokens)[0]


def connect_with(settings: ImapIntakeSettings, tokens: TokenSource | None = None) -> tuple[IMAPClient, str]:
    """`connect`, and how it signed in: `LOGIN` (a password), `XOAUTH2` or `OAUTHBEARER`.
    `check-config --connect`'s, which says it."""
    client = IMAPClient(
        settings.host,
        port=settings.port,
        ssl=settings.security == "ssl",
        timeout=SocketTimeout(connect=CONNECT_TIMEOUT, read=READ_TIMEOUT),
    )
    try:
        if settings.security == "starttls":
            client.starttls()  # imapclient's default context verifies the certificate
        if settings.auth == "oauth2":
            mechanism = _sign_in_with_token(client, settings, tokens or tokens_for(settings))
        else:
            client.login(settings.username, settings.password)
            mechanism = "LOGIN"
    except BaseException:
        close(client, graceful=False)
        raise
    return client, mechanism


def _sign_in_with_token(client: IMAPClient, settings: ImapIntakeSettings, tokens: TokenSource | None) -> str:
    if tokens is None:
        raise OAuth2LoginRefused("oauth2: no [oauth2] settings for intake.imap")
    capabilities = [cap.upper() for cap in client.capabilities()]
    offered = [cap[5:].decode("ascii", "replace") for cap in capabilities if cap.startswith(b"AUTH=")]
    mechanism = sasl.choose(offered)
    if offered and mechanism not in offered:
        raise OAuth2LoginRefused(f"oauth2: the server offers neither XOAUTH2 nor OAUTHBEARER ({' '.join(offered)})")
    for _ in range(2):
        fetches = tokens.fetches
        try:
            token = tokens.token()
        except TokenRefused as refused:
            raise OAuth2LoginRefused(str(refused)) from None
        fresh = tokens.fetches != fetches
        try:
            exchange = sasl.Exchange(mechanism, settings.username, token, settings.host, settings.port)
            client.sasl_login(mechanism, exchange)
            return mechanism
        except LoginError:
            tokens.refused(token)
            if fresh:
                # A token fetched for this very login, refused: another one now would be too.
                break
    raise OAuth2LoginRefused(f"oauth2: the server refused the token ({mechanism})")


def close(client: IMAPClient, *, graceful: bool) -> None:
    # After a failure the connection may be half dead: a LOGOUT could block for the whole read
    # timeout, so just close the socket.
    if graceful:
        try:
            client.logout()
            return
        except Exception:
            pass
    try:
        client.shutdown()
    except Exception:
        pass


def _wait(seconds: float) -> str:
    """`30 s`, `4 min`, `1 h`: the wait before the next login, as an operator reads it."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 3600 else f"{seconds / 3600:.0f} h"


def _is_bye(response: object) -> bool:
    return isinstance(response, tuple) and bool(response) and response[0] == b"BYE"


def _is_keepalive(response: object) -> bool:
    """`* OK Still here`: the server is alive, nothing changed."""
    return isinstance(response, tuple) and bool(response) and response[0] == b"OK"


def _is_warning(response: object) -> bool:
    return isinstance(response, tuple) and bool(response) and response[0] in (b"NO", b"BAD")


def _throttled(exc: BaseException) -> bool:
    """The server's answer says it is throttling us: Exchange Online's `[THROTTLED]` response
    code, or its `Server busy` / `Server Unavailable` words. Only matched, never repeated: the
    rest of a server's answer is not ours to log."""
    if not isinstance(exc, IMAPClientError):
        return False
    text = str(exc).lower()
    return "[throttled]" in text or "server busy" in text or "server unavailable" in text


def _expunge(client: IMAPClient, uids: list[int]) -> None:
    client.delete_messages(uids, silent=True)
    if client.has_capability("UIDPLUS"):
        client.uid_expunge(uids)  # only ours, not what someone else marked \Deleted
    else:
        client.expunge()


def _message_id(header: bytes) -> str:
    """`<id@host>` from a `Message-ID:` header line (unfolded), or "" without one."""
    value = header.decode("ascii", "replace").partition(":")[2]
    return " ".join(value.split())


def _batches(uids: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(uids), size):
        yield uids[start : start + size]
