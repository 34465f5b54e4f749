"""Every read and write the daemon makes. Nothing outside store/ writes SQL.

Functions take an open `Session` so that the caller decides the transaction: intake records a
message's events and its IMAP checkpoint in one.

One module per concern; every public name is re-exported here, so callers write
`from mentormail.store import queries; queries.enqueue(...)`:

- `roster`: the roster as the store holds it (`load_roster`), its version, the program row and
  its staff (`sync_program`), a pair's status, a person's name.
- `roster_import`: importing roster CSV rows (`apply_roster`, `ImportCounts`), a round's at a time.
- `rounds`: the config's rounds in the store (`sync_rounds`, `RoundsMissing`, `stored_rounds`),
  a pair's key from its round and roster id (`pair_key`, `roster_pair_id`, `named_pair_key`).
- `addresses`: a person's address changing (`change_address`, `AddressChangeError`).
- `intake`: what intake records: outcomes (`record_outcome`, `RECORDED_OUTCOMES`), whether a
  message was seen before, IMAP checkpoints, the text of questions to forward, and the
  simulator's stand-in contacts; a batch's transaction (`begin_intake_batch`, `end_intake_batch`).
- `outbox`: the program's own mail: `enqueue`, delivery (`claim_for_delivery`, `mark_sent`,
  `mark_attempt_failed`, and `sent_recently` for the send rate), what is unsent (`OutboxEntry`),
  queueing it again (`requeue`), finding our mail again.
- `planner`: what the planner reads: `planner_state` (everything), `pair_planner_state` (a
  batch of pairs), `program_planner_state` (the committee's mail).
- `plans`: the planner's bookkeeping for incremental planning: which pairs to plan
  (`pairs_to_plan`), their next moments (`record_pair_plans`), the hooks every writer calls
  (`pairs_changed`, `people_changed`, `roster_changed`), the program-wide plan.
- `replies`: what replies record: reported contacts, survey answers, check-ins, the audit,
  commands obeyed once per mail, letter requests.
- `reports`: reading for status and export: `pair_activity`, `monthly_contacts`,
  `survey_rows`, `days_since_contact`.
- `summary`: the liaison summary's figures per pair as of a moment, in one grouped query
  (`liaison_activity`).
- `erasure`: forgetting a person and everything about them (`forget_person`, `Erasure`,
  `CannotForget`), and the key of the answer that asks a coordinator to confirm it.
- `held_data`: what is held about one participant, for their `my data` request (`held_about`,
  `HeldData`).
- `retention`: a finished round's per-person data removed after the days it is kept, its counts
  kept (`rounds_due`, `count_round`, `purge_pairs`, `purge_strangers`, `finish_purge`,
  `purged_rounds`).
- `times`: `as_utc`, for the datetimes SQLite hands back without their zone.
- `inserts`: `insert_ignoring_repeat`, an INSERT that leaves a row already there alone (internal).
"""

from __future__ import annotations

from .addresses import AddressChange, AddressChangeError, change_address
from .erasure import CannotForget, Erasure, forget_confirmation_key, forget_person
from .held_data import HeldData, held_about
from .intake import (
    RECORDED_OUTCOMES,
    BatchRecorder,
    SeenBefore,
    begin_intake_batch,
    end_intake_batch,
    load_checkpoint,
    question_texts,
    record_outcome,
    record_question_text,
    record_simulated_contacts,
    save_checkpoint,
    seen_before,
)
from .outbox import (
    OutboxEntry,
    Requeued,
    SentRecently,
    claim_for_delivery,
    enqueue,
    last_outbox_id,
    mark_attempt_failed,
    mark_sent,
    next_delivery_attempt,
    outbox_mail_for_token,
    outbox_status,
    release_claim,
    release_claims,
    requeue,
    sent_after,
    sent_recently,
    unsent_mail,
)
from .planner import pair_planner_state, planner_state, program_planner_state
from .plans import (
    PairToPlan,
    adopt_new_pairs,
    next_planned_moment,
    pairs_changed,
    pairs_to_plan,
    people_changed,
    program_fingerprint,
    program_plan,
    record_pair_plans,
    record_program_plan,
    roster_changed,
)
from .replies import (
    CheckinComment,
    audit,
    checkin_comments,
    decide_letter,
    earlier_use_of_command,
    letter_request,
    pair_id_of,
    record_reported_contact,
    request_letter,
    save_checkin,
    save_survey_answers,
)
from .reports import (
    MonthlyContacts,
    PairActivity,
    SurveyRow,
    days_since_contact,
    monthly_contacts,
    pair_activity,
    survey_rows,
)
from .retention import (
    PurgedRound,
    count_round,
    finish_purge,
    purge_pairs,
    purge_strangers,
    purged_rounds,
    round_ends_on,
    rounds_due,
)
from .roster import bump_roster_version, load_roster, name_of, roster_version, set_pair_status, sync_program
from .roster_import import ImportCounts, apply_roster
from .rounds import (
    FIRST_ROUND,
    RoundDates,
    RoundsMissing,
    keep_only_round,
    named_pair_key,
    pair_key,
    rounds_with_pairs,
    roster_pair_id,
    stored_rounds,
    sync_rounds,
)
from .summary import liaison_activity
from .times import as_utc

__all__ = [
    # roster
    "bump_roster_version",
    "load_roster",
    "name_of",
    "roster_version",
    "set_pair_status",
    "sync_program",
    # roster_import
    "ImportCounts",
    "apply_roster",
    # rounds
    "FIRST_ROUND",
    "RoundDates",
    "RoundsMissing",
    "keep_only_round",
    "named_pair_key",
    "pair_key",
    "rounds_with_pairs",
    "roster_pair_id",
    "stored_rounds",
    "sync_rounds",
    # addresses
    "AddressChange",
    "AddressChangeError",
    "change_address",
    # retention
    "PurgedRound",
    "count_round",
    "finish_purge",
    "purge_pairs",
    "purge_strangers",
    "purged_rounds",
    "round_ends_on",
    "rounds_due",
    # held_data
    "HeldData",
    "held_about",
    # intake
    "RECORDED_OUTCOMES",
    "SeenBefore",
    "begin_intake_batch",
    "end_intake_batch",
    "load_checkpoint",
    "question_texts",
    "record_outcome",
    "record_question_text",
    "record_simulated_contacts",
    "save_checkpoint",
    "seen_before",
    "BatchRecorder",
    # outbox
    "OutboxEntry",
    "Requeued",
    "SentRecently",
    "claim_for_delivery",
    "release_claim",
    "release_claims",
    "enqueue",
    "last_outbox_id",
    "mark_attempt_failed",
    "mark_sent",
    "next_delivery_attempt",
    "outbox_mail_for_token",
    "outbox_status",
    "requeue",
    "sent_after",
    "sent_recently",
    "unsent_mail",
    # planner
    "pair_planner_state",
    "planner_state",
    # summary
    "liaison_activity",
    "program_planner_state",
    # plans
    "PairToPlan",
    "next_planned_moment",
    "pairs_changed",
    "pairs_to_plan",
    "adopt_new_pairs",
    "people_changed",
    "program_fingerprint",
    "program_plan",
    "record_pair_plans",
    "record_program_plan",
    "roster_changed",
    # replies
    "CheckinComment",
    "checkin_comments",
    "pair_id_of",
    "audit",
    "decide_letter",
    "earlier_use_of_command",
    "letter_request",
    "record_reported_contact",
    "request_letter",
    "save_checkin",
    "save_survey_answers",
    # reports
    "MonthlyContacts",
    "PairActivity",
    "SurveyRow",
    "days_since_contact",
    "monthly_contacts",
    "pair_activity",
    "survey_rows",
    # erasure
    "CannotForget",
    "Erasure",
    "forget_confirmation_key",
    "forget_person",
    # times
    "as_utc",
]
