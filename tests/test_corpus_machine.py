"""parsers/machine.py over the shared corpus of real-world mail (../shared/corpus).

- Every file goes through parse_headers, classify_message and bounced_addresses unharmed.
- The sisimai bounces are classified BOUNCE; the exceptions are listed below, each with why.
- Non-bounces (sisimai's maildir/not, ARF abuse reports, replies) are never BOUNCE.
- Mail people wrote is not machine mail by its headers (the header rules were written without
  looking at these folders: the figures are measured on mail not tuned on).

`pytest -s` prints the figures. Corpus labels come from upstream file and folder names
(`lhost-*`/`rhost-*`: a bounce from that MTA or provider); we checked the exceptions by hand.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import pytest

from corpus_labels import (
    CORPUS,
    CPYTHON_MACHINE_MAIL,
    HUMAN_MAIL_FOLDERS,
    REPLY_FOLDERS,
    SISIMAI,
    SISIMAI_BOUNCES_FILED_AS_NOT,
    SISIMAI_KNOWN_MISSES,
    SISIMAI_NOT_BOUNCES,
    expected_bounces,
    mail_files,
    name,
    sisimai_name,
    skip_without_corpus,
)
from mentormail.parsers.headers import parse_headers
from mentormail.parsers.machine import MachineKind, bounced_addresses, classify_headers, classify_message

skip_without_corpus()
pytestmark = pytest.mark.corpus
PROGRAM = "program@mentors.example.org"
ALL_FILES = mail_files(CORPUS)
SISIMAI_FILES = mail_files(SISIMAI)


def kind_of(path: Path) -> MachineKind | None:
    verdict = classify_message(path.read_bytes(), PROGRAM)
    return verdict.kind if verdict else None


def folder(path: Path) -> str:
    return sisimai_name(path).rsplit("/", 1)[0]


def figures(paths: Iterable[Path], recognised: set[Path]) -> str:
    total, hits = Counter(folder(p) for p in paths), Counter(folder(p) for p in paths if p in recognised)
    return ", ".join(f"{f} {hits[f]}/{total[f]}" for f in sorted(total))


def test_the_corpus_is_there() -> None:
    assert len(ALL_FILES) > 900 and len(SISIMAI_FILES) > 600


@pytest.mark.parametrize("path", ALL_FILES, ids=name)
def test_every_file_is_classified_without_exception(path: Path) -> None:
    raw = path.read_bytes()
    parse_headers(raw)
    verdict = classify_message(raw, PROGRAM)
    assert verdict is None or isinstance(verdict.kind, MachineKind)
    addresses = bounced_addresses(raw)
    assert isinstance(addresses, frozenset) and all("@" in a for a in addresses)


def test_sisimai_bounces_are_bounces() -> None:
    bounces = expected_bounces()
    kinds = {path: kind_of(path) for path in bounces}
    recognised = {path for path, kind in kinds.items() if kind is MachineKind.BOUNCE}
    with_addresses = sum(1 for path in recognised if bounced_addresses(path.read_bytes()))
    print(
        f"\nsisimai bounces recognised: {len(recognised)}/{len(bounces)} ({figures(bounces, recognised)});"
        f" flufl.bounce named the failed address in {with_addresses}/{len(recognised)}"
    )
    misses = {sisimai_name(path): kinds[path] for path in bounces if path not in recognised}
    assert set(misses) == set(SISIMAI_KNOWN_MISSES), misses


def test_sisimai_non_bounces_are_not_bounces() -> None:
    checked = [path for path in SISIMAI_FILES if sisimai_name(path) in SISIMAI_NOT_BOUNCES]
    kinds = Counter(str(kind_of(path)) for path in checked)
    print(f"\nsisimai non-bounces ({len(checked)}), classified as: {dict(sorted(kinds.items()))}")
    assert len(checked) == len(SISIMAI_NOT_BOUNCES)
    wrong = [sisimai_name(path) for path in checked if kind_of(path) is MachineKind.BOUNCE]
    assert wrong == []


def test_maildir_not_holds_no_bounce_but_the_one_upstream_misfiled() -> None:
    not_folder = [path for path in SISIMAI_FILES if sisimai_name(path).startswith("maildir/not/")]
    assert not_folder
    for path in not_folder:
        is_bounce = kind_of(path) is MachineKind.BOUNCE
        assert is_bounce == (sisimai_name(path) in SISIMAI_BOUNCES_FILED_AS_NOT), sisimai_name(path)


def test_arf_abuse_reports_are_auto_replies_or_unrecognised() -> None:
    arf = [path for path in SISIMAI_FILES if path.name.startswith("arf-")]
    kinds = {sisimai_name(path): kind_of(path) for path in arf}
    assert arf and all(kind in (MachineKind.AUTO_REPLY, None) for kind in kinds.values()), kinds


@pytest.mark.parametrize("folder_name", REPLY_FOLDERS)
def test_replies_are_never_bounces(folder_name: str) -> None:
    replies = mail_files(CORPUS / folder_name)
    assert replies
    bounces = [name(path) for path in replies if kind_of(path) is MachineKind.BOUNCE]
    assert bounces == []


def header_verdicts(paths: Iterable[Path]) -> dict[str, str]:
    """The files that their headers alone show to be machine mail, with the verdict's reason."""
    verdicts = {name(path): classify_headers(parse_headers(path.read_bytes()), PROGRAM) for path in paths}
    return {file: verdict.reason for file, verdict in verdicts.items() if verdict is not None}


@pytest.mark.parametrize("folder_name", HUMAN_MAIL_FOLDERS)
def test_mail_people_wrote_is_not_machine_mail(folder_name: str) -> None:
    files = mail_files(CORPUS / folder_name)
    machine = header_verdicts(files)
    print(f"\n{folder_name}: {len(machine)}/{len(files)} taken for machine mail by their headers")
    assert files and machine == {}


def test_cpython_email_tests_machine_mail_is_the_machine_mail() -> None:
    files = mail_files(CORPUS / "cpython-test_email")
    machine = header_verdicts(files)
    print(f"\ncpython-test_email: {len(machine)}/{len(files)} machine mail by their headers")
    assert set(machine) == set(CPYTHON_MACHINE_MAIL), machine
