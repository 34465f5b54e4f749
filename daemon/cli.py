"""The `mentormail` command line (DESIGN.md section 6).

Exit status: 0 success; 1 a user error (bad config, bad roster line, unreadable file), printed as
one line naming the problem; 2 usage. `ingest` exits 75 (EX_TEMPFAIL) when the store fails, so
that an MTA's pipe transport keeps the message and retries.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from ..parsers.roster_csv import RosterError, read_roster
from ..store import queries
from ..store.db import describe as describe_store
from ..store.locks import AnotherDaemon
from ..store.outcomes import Source, Transport
from . import logs
from .auth import login as oauth_login
from .intake.files import UnreadableInput, iter_messages
from .intake.ingest import Explanation
from .logs import describe_exception
from .mail.retention import describe as describe_retention
from .operation.connections import check_connections
from .operation.export import (
    contact_rows,
    contacts_through,
    survey_columns,
    survey_csv_rows,
    survey_export_rows,
    write_contacts_csv,
    write_csv,
    write_json,
)
from .operation.outbox_view import outbox_document, outbox_table, requeued_text
from .operation.simulate import TRAFFIC_KINDS, ProgressBar, SimulationError, simulate
from .operation.starter import create_starter
from .operation.status import pair_status, purged_round, purged_rounds_text, status_document, status_table
from .service import CannotListen, build_intake, open_store, run
from .settings import ConfigError, Settings, load_settings

EXIT_OK, EXIT_USER_ERROR, EXIT_USAGE, EXIT_TEMPFAIL = 0, 1, 2, 75
DEFAULT_CONFIG = "mentormail.toml"

log = logging.getLogger("mentormail")


class UserError(Exception):
    """A problem the user can fix; printed as one line, exit status 1."""


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logs.configure(args.log_level or args.default_log_level)
    try:
        return args.handler(args)
    except (ConfigError, RosterError, UnreadableInput, UserError, AnotherDaemon, CannotListen) as exc:
        print(f"mentormail: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except SQLAlchemyError as exc:
        # The store refused or could not be reached: the driver's reason in one line (never a
        # statement's parameters), and the exit status that tells a script to try again later.
        print(f"mentormail: the store failed: {_first_line(exc)}", file=sys.stderr)
        return EXIT_TEMPFAIL


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mentormail",
        description="Runs a one-on-one mentoring program by email. Participants CC or BCC the program "
        "address; mentormail logs that they corresponded (who to whom, when), never what they wrote.",
        epilog="Exit status: 0 success, 1 a user error (named in one line), 2 usage, 75 the store failed "
        "or could not be reached (try again later). "
        "See README.md for the config keys and the JSON formats.",
    )
    parser.set_defaults(handler=lambda _: parser.print_help() or EXIT_USAGE, default_log_level="INFO")
    _add_common_options(parser, defaults=True)
    # The same options after the command name (`mentormail run -c FILE`); SUPPRESS keeps a
    # subcommand from resetting what was given before it.
    common = argparse.ArgumentParser(add_help=False)
    _add_common_options(common, defaults=False)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    def command(name: str, handler: Callable[[argparse.Namespace], int], help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, parents=[common], help=help, description=help)
        sub.set_defaults(handler=handler)
        return sub

    init = command("init", _init, "write a starter config, a roster template and a new secret key into DIR")
    init.add_argument("directory", metavar="DIR", type=Path)
    check = command("check-config", _check_config, "validate the config; errors name the file, the key and the problem")
    check.add_argument(
        "--connect",
        action="store_true",
        help="also log in to the IMAP server and the relay the config names, one line each (exit 1 if one fails)",
    )
    roster = command("import-roster", _import_roster, "add or update people and pairs from a CSV roster (idempotent)")
    roster.add_argument("file", metavar="FILE.csv", type=Path)
    _add_round_option(roster, "the round the roster's pairs belong to")
    moved = command(
        "change-address",
        _change_address,
        "move a person to a new address: the program's mail goes to NEW, mail from OLD still counts "
        "(OLD becomes an alias), the bouncing flag clears; audited",
    )
    moved.add_argument("old", metavar="OLD")
    moved.add_argument("new", metavar="NEW")
    command("run", _run, "run the daemon (intake, and later the scheduler) until SIGTERM or SIGINT")
    ingest = command(
        "ingest",
        _ingest,
        "feed messages through intake: files, '-' for standard input (an MTA pipe), a Maildir folder or an mbox",
    )
    ingest.add_argument("paths", metavar="FILE", nargs="+")
    explain = command("explain", _explain, "say what the daemon would do with a message, and why; changes nothing")
    explain.add_argument("path", metavar="FILE", help="a message file, or '-' for standard input")
    explain.add_argument("--json", action="store_true", help="print one JSON document (keys in README)")
    status = command("status", _status, "per pair: contacts by direction, last contact, days since, flags")
    status.add_argument("--json", action="store_true", help="print one JSON document (keys in README)")
    _add_round_option(status, "the round whose pairs to list")
    simulate = command(
        "simulate",
        _simulate,
        "run the program's calendar in virtual time on a scratch copy of the store (the real one is untouched), "
        "write every mail it would send to a Maildir and print a week-by-week timeline",
    )
    # Its output is the timeline (and a progress bar on a terminal), not the log of every mail.
    simulate.set_defaults(default_log_level="WARNING")
    simulate.add_argument("--until", required=True, type=_date, metavar="YYYY-MM-DD", help="last day to simulate")
    _add_round_option(simulate, "the round to simulate (its pairs, from its start)")
    simulate.add_argument(
        "--traffic",
        choices=TRAFFIC_KINDS,
        default="none",
        help="synthetic contacts: none; steady (every pair every two weeks); "
        "quiet-pairs (every other pair falls silent after three weeks)",
    )
    simulate.add_argument(
        "--outbox",
        type=Path,
        default=Path("simulated-outbox"),
        metavar="DIR",
        help="Maildir for the mail (default: ./simulated-outbox)",
    )
    simulate.add_argument(
        "--replies",
        action="store_true",
        help="imagined people answer the program's mail (surveys, check-ins, a letter request and its approval; "
        "quiet pairs report calls instead)",
    )
    outbox = command(
        "outbox",
        _outbox,
        "list the program's mail not yet sent: queued, due, retrying, or failed (given up, or set aside because "
        "it could not be composed) with the reason",
    )
    outbox.add_argument("--failed", action="store_true", help="only the mail that failed")
    outbox.add_argument("--json", action="store_true", help="print one JSON document (keys in README)")
    retry = outbox.add_subparsers(title="actions", metavar="ACTION").add_parser(
        "retry",
        parents=[common],
        help="queue failed mail again (KEY, or --all-failed); it is sent at the daemon's next delivery",
        description="queue failed mail again (KEY, or --all-failed); it is sent at the daemon's next delivery",
    )
    retry.set_defaults(handler=_outbox_retry)
    which = retry.add_mutually_exclusive_group(required=True)
    which.add_argument("key", nargs="?", metavar="KEY", help="the mail's key, as `mentormail outbox` lists it")
    which.add_argument("--all-failed", action="store_true", help="every mail that failed")
    export = command(
        "export",
        _export,
        "for reporting: contacts per pair and month (by direction and channel), or survey answers "
        "(a row per person and survey, a column per question); safe to open in a spreadsheet",
    )
    export.add_argument("what", choices=["contacts", "surveys"], help="what to export")
    export.add_argument("--format", choices=["csv", "json"], default="csv")
    _add_round_option(export, "the round to export")
    oauth_login = command(
        "oauth-login",
        _oauth_login,
        "sign the program's mailbox in once in a browser (installed-app flow) and write the refresh token to "
        "the oauth2 table's refresh_token_file (mode 0600): for provider google, or generic with a refresh token",
    )
    oauth_login.add_argument(
        "--table", default="oauth2", help="the oauth2 table to sign in for (default: oauth2; e.g. delivery.smtp.oauth2)"
    )
    oauth_login.add_argument(
        "--authorize-url", metavar="URL", help="the provider's authorization endpoint (default for google: Google's)"
    )
    oauth_login.add_argument(
        "--timeout", type=float, default=300, metavar="SECONDS", help="how long to wait for the browser (default 300)"
    )
    forget = command(
        "forget",
        _forget,
        "remove a participant and everything that refers to them (pairs, contacts, answers, mail, intake "
        "records); without --yes, only counts what would go",
    )
    forget.add_argument("email", metavar="EMAIL", nargs="?", help="the person's address (or one of their aliases)")
    forget.add_argument("--yes", action="store_true", help="really forget them (nothing can bring it back)")
    forget.add_argument(
        "--vacuum",
        action="store_true",
        help="without EMAIL: only rewrite the store so that rows removed before leave no bytes behind "
        "(when an earlier forget found the store in use)",
    )
    return parser


def _add_round_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--round",
        metavar="ID",
        help=f"{what} (a [[rounds]] id; default: the current round, the latest that has started)",
    )


def _round(settings: Settings, args: argparse.Namespace) -> str:
    """The round a command is about: `--round ID`, else the current one (in the program's zone)."""
    if args.round is None:
        return settings.current_round(datetime.now(settings.program.zone).date()).id
    return settings.round(args.round).id  # an unknown id: ConfigError naming the known ones


def _add_common_options(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    parser.add_argument(
        "-c",
        "--config",
        default=os.environ.get("MENTORMAIL_CONFIG", DEFAULT_CONFIG) if defaults else argparse.SUPPRESS,
        help=f"the config file (default: $MENTORMAIL_CONFIG, else ./{DEFAULT_CONFIG})",
    )
    parser.add_argument(
        "--log-level",
        default=None if defaults else argparse.SUPPRESS,
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="how much mentormail logs (default INFO, for simulate WARNING; libraries log warnings only); "
        "no level logs what participants wrote",
    )


# --- commands --------------------------------------------------------------------------------


def _init(args: argparse.Namespace) -> int:
    try:
        written = create_starter(args.directory)
    except FileExistsError as exc:
        raise UserError(str(exc)) from None
    except OSError as exc:
        raise UserError(f"{args.directory}: cannot write: {exc.strerror}") from None
    for path in written:
        print(f"wrote {path}")
    print(f"next: edit {written[0]}, then `mentormail -c {written[0]} check-config`")
    return EXIT_OK


def _check_config(args: argparse.Namespace) -> int:
    settings = _settings(args)
    settings.secret()  # a missing or readable-by-others key is a config error too
    for warning in settings.warnings:
        print(f"mentormail: warning: {warning}", file=sys.stderr)
    _check_rounds_kept(settings)
    print(f"{settings.path}: OK")
    try:
        print(describe_store(settings.store.url).line())
    except SQLAlchemyError as exc:
        raise UserError(f"store: cannot reach {_without_password(settings.store.url)}: {_first_line(exc)}") from None
    print(describe_retention(settings.privacy.keep_days_after_round))
    if not args.connect:
        return EXIT_OK
    checks = check_connections(settings)
    if not checks:
        print(f"nothing to connect to: intake.imap is not enabled and delivery.backend is {settings.delivery.backend}")
    for check in checks:
        print(check.line(), flush=True)
    return EXIT_OK if all(check.ok for check in checks) else EXIT_USER_ERROR


def _check_rounds_kept(settings: Settings) -> None:
    """A round the store has pairs in must stay in the config (the start refuses it too)."""
    try:
        with_pairs = describe_store(settings.store.url).rounds_with_pairs
    except SQLAlchemyError:
        return  # said on the store's own line below
    if missing := {round_id: n for round_id, n in with_pairs.items() if round_id not in settings.round_ids()}:
        raise ConfigError(f"{settings.path}: rounds: {queries.RoundsMissing(missing, settings.round_ids())}")


def _without_password(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _first_line(exc: SQLAlchemyError) -> str:
    """The driver's own reason (`connection refused`, `database "x" does not exist`), one line."""
    reason = str(getattr(exc, "orig", None) or exc).strip()
    return reason.splitlines()[0] if reason else type(exc).__name__


def _import_roster(args: argparse.Namespace) -> int:
    settings = _settings(args)
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        raise UserError(f"{args.file}: cannot read: {exc.strerror}") from None
    roster = read_roster(data, str(args.file))
    for warning in roster.warnings:
        print(f"mentormail: warning: {warning}", file=sys.stderr)
    chosen = settings.round(_round(settings, args))
    store = open_store(settings)
    try:
        with store.session() as session:
            counts = queries.apply_roster(session, roster.rows, chosen.starts_on, str(args.file), chosen.id)
    finally:
        store.close()
    in_round = f" (round {chosen.id})" if len(settings.rounds) > 1 else ""
    print(f"{args.file}{in_round}: {counts.added} added, {counts.updated} updated, {counts.unchanged} unchanged")
    return EXIT_OK


def _change_address(args: argparse.Namespace) -> int:
    settings = _settings(args)
    store = open_store(settings)
    try:
        with store.session() as session:
            try:
                change = queries.change_address(session, args.old, args.new)
            except queries.AddressChangeError as exc:
                raise UserError(str(exc)) from None
            who = f"command line ({os.environ.get('USER') or 'unknown user'})"
            command = f"change-address {change.old} {change.new}"
            queries.audit(session, datetime.now(timezone.utc), who, command, "done: " + change.summary())
    finally:
        store.close()
    print(change.summary())
    return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    settings = _settings(args)
    settings.secret()
    run(settings)
    return EXIT_OK


def _ingest(args: argparse.Namespace) -> int:
    settings = _settings(args)
    store = open_store(settings)
    intake = build_intake(settings, store)
    kinds: Counter[str] = Counter()
    for argument in args.paths:  # every path is checked first: exit 1 means nothing was done
        if argument != "-" and not Path(argument).exists():
            raise UserError(f"{argument}: cannot read: No such file or directory")
    try:
        for argument in args.paths:
            transport = Transport.PIPE if argument == "-" else Transport.FILE
            for label, raw in iter_messages(argument):
                try:
                    outcome = intake.ingest(raw, Source(transport))
                except Exception as exc:  # the store failed: the message was not recorded
                    log.error("%s: not recorded: %s", label, describe_exception(exc))
                    print(f"{label}: not recorded (temporary failure); try again", file=sys.stderr)
                    return EXIT_TEMPFAIL
                kinds[outcome.kind.value] += 1
                print(f"{label}: {outcome.kind.value}: {outcome.reason}")
    finally:
        store.close()
    if sum(kinds.values()) > 1:
        print("total: " + ", ".join(f"{kind} {n}" for kind, n in sorted(kinds.items())))
    return EXIT_OK


def _explain(args: argparse.Namespace) -> int:
    settings = _settings(args)
    messages = list(iter_messages(args.path))
    if len(messages) != 1:
        raise UserError(f"{args.path}: explain takes one message, this holds {len(messages)}")
    store = open_store(settings)
    try:
        explanation = build_intake(settings, store).explain(messages[0][1], Source(Transport.FILE))
    finally:
        store.close()
    if args.json:
        print(json.dumps(_explain_document(explanation), ensure_ascii=False))
    else:
        print("\n".join(_explain_lines(explanation)))
    return EXIT_OK


def _explain_document(explanation: Explanation) -> dict[str, object]:
    """The `explain --json` document: the outcome's keys, then what mail-parser found (README)."""
    structure = explanation.structure
    transit = structure.in_transit
    return {
        **explanation.outcome.as_json(),
        "examined": "whole_message" if structure.whole else "header_block",
        "warnings": [{"where": d.where, "problem": d.problem, "category": d.category} for d in structure.defects],
        "hops": [
            {
                "hop": hop.number,
                "from": hop.sent_from,
                "by": hop.by,
                "with": hop.with_,
                "date": hop.at.isoformat() if hop.at else None,
                "delay_seconds": hop.delay.total_seconds() if hop.delay is not None else None,
            }
            for hop in structure.hops
        ],
        "transit_seconds": transit.total_seconds() if transit is not None else None,
    }


def _explain_lines(explanation: Explanation) -> list[str]:
    """The outcome on the first line; then any warnings, one a line; then the hops, oldest first."""
    outcome, structure = explanation.outcome, explanation.structure
    lines = [f"{outcome.kind.value}: {outcome.reason}"]
    lines += [f"warning: {d.where}: {d.problem}" for d in structure.defects]
    for hop in structure.hops:
        named = (("from", hop.sent_from), ("by", hop.by), ("with", hop.with_))
        clauses = [f"{word} {text}" for word, text in named if text]
        when = hop.at.strftime("at %Y-%m-%d %H:%M:%S UTC") if hop.at else "date unreadable"
        if hop.delay is not None:
            when += f" ({_duration(hop.delay)} after {'the Date header' if hop.number == 1 else 'the hop before'})"
        lines.append(f"hop {hop.number}: {' '.join(clauses) or '(nothing readable)'}, {when}")
    transit = structure.in_transit
    if transit is not None:
        since = "the Date header" if structure.date else "the first hop"
        lines.append(f"in transit: {_duration(transit)}, from {since} to the last hop")
    return lines


def _duration(span: timedelta) -> str:
    """`1 d 2 h`, `3 min 5 s`, `-4 s` (a clock that is wrong): the largest unit and the next."""
    seconds = round(span.total_seconds())
    sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
    units = (("d", 86400), ("h", 3600), ("min", 60), ("s", 1))
    index = next(i for i, (name, size) in enumerate(units) if seconds >= size or name == "s")
    name, size = units[index]
    text = f"{sign}{seconds // size} {name}"
    if index + 1 < len(units) and (rest := seconds % size // units[index + 1][1]):
        text += f" {rest} {units[index + 1][0]}"
    return text


def _status(args: argparse.Namespace) -> int:
    settings = _settings(args)
    round_id = _round(settings, args)
    store = open_store(settings)
    try:
        with store.session() as session:
            activity = queries.pair_activity(session, round_id=round_id)
            # What is kept of rounds purged after [privacy] keep_days_after_round: their counts.
            purged = [purged_round(kept) for kept in queries.purged_rounds(session)]
    finally:
        store.close()
    now = datetime.now(timezone.utc)
    if args.json:
        kept = {"purged_rounds": purged} if purged else {}
        write_json(sys.stdout, "pairs", (pair_status(pair, now) for pair in activity), round=round_id, **kept)  # type: ignore[arg-type]
    else:
        print(status_table(status_document(activity, now), settings.program.zone))
        if purged:
            print(purged_rounds_text(purged, settings.program.zone))
    return EXIT_OK


def _simulate(args: argparse.Namespace) -> int:
    settings = _settings(args)
    try:
        progress = ProgressBar(sys.stderr) if sys.stderr.isatty() else None
        timeline = simulate(
            settings, args.until, args.traffic, args.outbox, replies=args.replies, progress=progress,
            round_id=_round(settings, args),
        )
    except SimulationError as exc:
        raise UserError(str(exc)) from None
    finally:
        if progress is not None:
            progress.close()
    print(timeline.table())
    print(f"mail written to the Maildir {args.outbox}")
    return EXIT_OK


def _outbox(args: argparse.Namespace) -> int:
    settings = _settings(args)
    store = open_store(settings)
    try:
        with store.session() as session:
            entries = queries.unsent_mail(session, failed_only=args.failed)
    finally:
        store.close()
    document = outbox_document(entries, datetime.now(timezone.utc))
    if args.json:
        print(json.dumps(document, ensure_ascii=False, indent=2))
    else:
        print(outbox_table(document, settings.program.zone))
    return EXIT_OK


def _outbox_retry(args: argparse.Namespace) -> int:
    settings = _settings(args)
    store = open_store(settings)
    try:
        with store.session() as session:
            key = None if args.all_failed else args.key
            if key is not None:
                status = queries.outbox_status(session, key)
                if status is None:
                    raise UserError(f"no mail {key!r} in the outbox (`mentormail outbox --failed` lists what failed)")
                if status == "sent":
                    raise UserError(f"{key} was sent already: nothing to retry")
            requeued = queries.requeue(session, datetime.now(timezone.utc), key)
            if key is not None and not requeued.total:
                raise UserError(f"{key} has not failed: it is waiting to be sent (`mentormail outbox` says when)")
    finally:
        store.close()
    print(requeued_text(requeued))
    return EXIT_OK


def _export(args: argparse.Namespace) -> int:
    settings = _settings(args)
    chosen = settings.round(_round(settings, args))
    store = open_store(settings)
    try:
        # Written as the rows are read: the session stays open until the last one is out.
        with store.session() as session:
            if args.what == "contacts":
                through = contacts_through(chosen, settings.program.zone, datetime.now(timezone.utc))
                months = queries.monthly_contacts(session, settings.program.zone, through, chosen.id)
                if args.format == "json":
                    write_json(sys.stdout, "contacts", contact_rows(months))
                else:
                    write_contacts_csv(sys.stdout, months)
            else:
                answers = survey_export_rows(queries.survey_rows(session, chosen.id))
                columns = survey_columns(settings.surveys)
                if args.format == "json":
                    write_json(sys.stdout, "surveys", answers)
                else:
                    write_csv(sys.stdout, survey_csv_rows(answers, columns), columns)
    finally:
        store.close()
    return EXIT_OK


def _forget(args: argparse.Namespace) -> int:
    """The address is never printed (nor logged): the output says what went, not whose it was."""
    settings = _settings(args)
    if (args.email is None) != args.vacuum:
        print("mentormail forget: takes EMAIL, or --vacuum alone", file=sys.stderr)
        return EXIT_USAGE
    store = open_store(settings)  # which marks the config's staff, whom forget_person refuses
    try:
        if args.vacuum:
            if not store.compact():
                raise UserError("the store is in use (is the daemon running?): stop it and try again")
            print("vacuumed the store")
            return EXIT_OK
        with store.session() as session:
            who, now = f"command line ({os.environ.get('USER') or 'unknown user'})", datetime.now(timezone.utc)
            try:
                erasure = queries.forget_person(session, args.email, now, who, dry_run=not args.yes)
            except queries.CannotForget as exc:
                raise UserError(str(exc)) from None
        if not args.yes:
            print(f"would forget {erasure.summary()}")
            print("nothing was removed: run again with --yes to forget them (it cannot be undone)")
            return EXIT_USER_ERROR
        try:
            compacted = store.compact()  # the deleted rows' bytes out of the file and its WAL
        except SQLAlchemyError as exc:  # forgotten already: only the bytes' rewriting failed
            print(f"mentormail: warning: the store could not be vacuumed: {_first_line(exc)}", file=sys.stderr)
            compacted = False
    finally:
        store.close()
    print(f"forgot {erasure.summary()}")
    if not compacted:
        print(
            "mentormail: warning: the store is in use (is the daemon running?): old copies of the removed rows "
            "may stay in its file until it is vacuumed; stop the daemon, then run `mentormail forget --vacuum`",
            file=sys.stderr,
        )
    return EXIT_OK


# --- helpers ---------------------------------------------------------------------------------


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _oauth_login(args: argparse.Namespace) -> int:
    settings = oauth_login.table_settings(Path(args.config), args.table)
    try:
        client = oauth_login.client_for(settings, args.authorize_url)
        written = oauth_login.login(client, say=lambda line: print(line, flush=True), timeout=args.timeout)
    except oauth_login.LoginFailed as failed:
        raise UserError(f"oauth-login: {failed}") from None
    print(f"refresh token written to {written} (mode 0600); check it with: mentormail check-config --connect")
    return EXIT_OK


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(Path(args.config))


if __name__ == "__main__":
    sys.exit(main())
