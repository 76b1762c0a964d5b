"""The worked case `safeguard demo` runs, as data: each step the `safeguard` command it runs,
what it reads, when on the simulated clock, and the line that explains it.

A teaching assistant is found to be friends online with a 15-year-old ex-pupil (section 4 of
the policy, handled as section 6 asks). Every name in it is invented. Nothing here runs.
"""

from __future__ import annotations

from dataclasses import dataclass

DSL = "Alex Morgan"
HEAD = "Jo Head"
DEPUTY = "Sam Patel"
TEACHER = "Ruth Hill"
#: The DSL of the school Lily moves to, in its own vault.
NORTHFIELD_DSL = "Priya Shah"

#: Each user's passphrase file in the demo's folder (it holds a random passphrase).
PASSPHRASE_FILES = {
    DSL: "alex.passphrase",
    HEAD: "jo.passphrase",
    DEPUTY: "sam.passphrase",
    TEACHER: "ruth.passphrase",
    NORTHFIELD_DSL: "priya.passphrase",
}

#: What every step runs with, as a script would export it; `{folder}` is the demo's folder.
SESSION = (
    ("SAFEGUARD_VAULT", "{folder}/demo.db"),
    ("SAFEGUARD_CONFIG", "{folder}/config.toml"),
    ("SAFEGUARD_USER", DSL),
    ("SAFEGUARD_PASSPHRASE_FILE", "{folder}/" + PASSPHRASE_FILES[DSL]),
)

#: The school's settings in `config.toml`: its name and its County contacts.
CONFIG = """\
school_name = "Caldecote Primary School (demo)"

[contacts.lado]
name = "LADO duty officer (example)"
phone = "01234 000001"
email = "lado@county.example"

[contacts.mash]
name = "Children's front door (example)"
phone = "01234 000002"
email = "mash@county.example"

[contacts.police]
name = "Police, non-emergency"
phone = "101"
"""


@dataclass(frozen=True)
class Step:
    """One command of the worked case.

    `argv` follows `safeguard`; in it (and in `why` and `env`) `{folder}`, `{case}`, the days
    `{monday}` to `{friday}` and whatever an earlier step kept are filled in when it runs.
    """

    #: The line shown above the command.
    why: str
    #: When it runs on the simulated clock: days after the Monday the case begins, and "HH:MM".
    day: int
    time: str
    argv: tuple[str, ...]
    #: What it reads on standard input (its `--text-file -`).
    stdin: str | None = None
    #: Files written in the demo's folder (mode 0600) before it runs: name and text.
    files: tuple[tuple[str, str], ...] = ()
    #: Variables set for this command alone, on top of `SESSION`.
    env: tuple[tuple[str, str], ...] = ()
    #: A value kept for later steps: its name, and a pattern whose group finds it in the
    #: command's output.
    keep: tuple[str, str] | None = None
    #: The exit code it ends with.
    exit_code: int = 0


FRIDAY_BEFORE = -3
MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY = range(5)

SUBJECTS = ("--subject", "Daniel Price", "--subject-role", "staff")
EX_PUPIL = ("--subject", "Lily Webb", "--subject-role", "ex-pupil")
#: The subjects' dates of birth, in the same order: each becomes a person the vault keeps.
SUBJECT_DOBS = ("--subject-dob", "1989-06-12", "--subject-dob", "2011-04-09")
DISCLOSER = ("--disclosed-by", "Karen Webb", "--relationship", "parent of an ex-pupil (Lily, 15)")
LADO = "J. Okafor, LADO"
AS_DEPUTY = (("SAFEGUARD_PASSPHRASE_FILE", "{folder}/" + PASSPHRASE_FILES[DEPUTY]),)
AS_TEACHER = (("SAFEGUARD_PASSPHRASE_FILE", "{folder}/" + PASSPHRASE_FILES[TEACHER]),)

#: The school Lily moves to: its own vault, settings (`NORTHFIELD_CONFIG`) and DSL.
NORTHFIELD = (
    ("SAFEGUARD_VAULT", "{folder}/northfield.db"),
    ("SAFEGUARD_CONFIG", "{folder}/northfield.toml"),
    ("SAFEGUARD_USER", NORTHFIELD_DSL),
    ("SAFEGUARD_PASSPHRASE_FILE", "{folder}/" + PASSPHRASE_FILES[NORTHFIELD_DSL]),
)
NORTHFIELD_CONFIG = 'school_name = "Northfield Academy (demo)"\n'

ACCOUNT = (
    "Mrs Webb said: \"I looked at Lily's phone last night. Mr Price, the teaching assistant, is "
    "her friend on Instagram and he has been messaging her, saying she was always his favourite "
    "and asking which school she goes to now. Lily is 15. I don't want him talking to her.\"\n"
)
OBSERVATIONS = (
    "Mrs Webb was upset but calm. She showed me three messages on her own phone; I did not "
    "copy them. I told her I must pass this on today.\n"
)

SETUP = (
    Step(
        f"{DSL}, the DSL, creates the school's vault and is its first user. The recovery key "
        "is shown once (this one goes with the demo's vault).",
        FRIDAY_BEFORE,
        "16:00",
        ("init",),
    ),
    Step(
        f"{DSL} adds the headteacher, whose passphrase is read from a file.",
        FRIDAY_BEFORE,
        "16:02",
        ("user", "add", HEAD, "--role", "head"),
        env=(("SAFEGUARD_NEW_PASSPHRASE_FILE", "{folder}/" + PASSPHRASE_FILES[HEAD]),),
    ),
    Step(
        "... and a deputy DSL.",
        FRIDAY_BEFORE,
        "16:03",
        ("user", "add", DEPUTY, "--role", "deputy"),
        env=(("SAFEGUARD_NEW_PASSPHRASE_FILE", "{folder}/" + PASSPHRASE_FILES[DEPUTY]),),
    ),
)

DISCLOSURE = (
    Step(
        f"At 08:35 Karen Webb tells {DSL} that Mr Price, a teaching assistant, messages her "
        "daughter Lily, 15, an ex-pupil. Each subject's date of birth links them to a person "
        "the vault keeps (added, as they are new). The account in her words is read from "
        "standard input; the DSL's own observations, kept apart, from a file.",
        MONDAY,
        "08:50",
        (
            "record",
            "--category",
            "staff-pupil-contact",
            *SUBJECTS,
            *EX_PUPIL,
            *SUBJECT_DOBS,
            *DISCLOSER,
            "--where",
            "the school office",
            "--at",
            "{monday} 08:35",
            "--observations-file",
            "{folder}/observations.txt",
            "--text-file",
            "-",
        ),
        stdin=ACCOUNT,
        files=(("observations.txt", OBSERVATIONS),),
        keep=("case", r"^(SG-\d{4}-\d+)$"),
    ),
    Step(
        f"An allegation about staff is restricted: {DEPUTY}, the deputy DSL, lists every case "
        "and does not see it...",
        MONDAY,
        "09:10",
        ("--user", DEPUTY, "cases", "--status", "all"),
        env=AS_DEPUTY,
    ),
    Step(
        "... and cannot open it by its reference: for them it does not exist (exit 4).",
        MONDAY,
        "09:11",
        ("--user", DEPUTY, "timeline", "{case}"),
        env=AS_DEPUTY,
        exit_code=4,
    ),
)

FLOW = (
    Step(
        "The DSL rang the LADO at 09:55, within the deadline, and records the referral.",
        MONDAY,
        "10:05",
        (
            "refer",
            "{case}",
            "--to",
            "lado",
            "--contact",
            LADO,
            "--reference",
            "LADO-0412",
            "--at",
            "{monday} 09:55",
            "--text-file",
            "-",
        ),
        stdin=(
            "Told the LADO what Mrs Webb disclosed and that Mr Price teaches Year 5. The LADO "
            "will discuss it with the police and call back this afternoon.\n"
        ),
    ),
    Step(
        f"{TEACHER}, a Year 5 teacher, saw something at lunchtime. {DSL} adds her as a member "
        "of staff: her key slot holds her own keys and no vault key.",
        MONDAY,
        "12:30",
        ("user", "add", TEACHER, "--role", "staff"),
        env=(("SAFEGUARD_NEW_PASSPHRASE_FILE", "{folder}/" + PASSPHRASE_FILES[TEACHER]),),
    ),
    Step(
        f"{TEACHER} reports what she saw as a concern, sealed to the safeguarding team; it "
        "prints its receipt number. (On a terminal, a short interview asks for each part.)",
        MONDAY,
        "12:40",
        (
            "--user",
            TEACHER,
            "concern",
            "--about",
            "Daniel Price",
            "--about-role",
            "staff",
            "--where",
            "the staff car park",
            "--at",
            "{monday} 12:15",
            "--text-file",
            "-",
        ),
        stdin=(
            "Mr Price was in his car on his phone. I heard him say \"Lily, don't tell your mum "
            'we talk" before he saw me and ended the call.\n'
        ),
        env=AS_TEACHER,
        keep=("concern", r"^(\d+)$"),
    ),
    Step(
        f"{DSL}'s inbox: the concerns waiting for triage, and for how many working hours.",
        MONDAY,
        "13:10",
        ("inbox",),
    ),
    Step(
        "The DSL adds the concern to the case: an entry carrying it as the teacher wrote and "
        "signed it.",
        MONDAY,
        "13:15",
        ("triage", "{concern}", "--case", "{case}"),
    ),
    Step(
        "The LADO calls back at 15:30 with advice.",
        MONDAY,
        "15:40",
        ("advice", "{case}", "--from", LADO, "--at", "{monday} 15:30", "--text-file", "-"),
        stdin=(
            "Not a police matter at this stage. The headteacher should meet Mr Price with an HR "
            "adviser, remind him of the policy (sections 3 and 4) and ask him to end the "
            "contact. Support Lily through her parents. Report back by Friday.\n"
        ),
    ),
    Step(
        "Following the advice: an action for the headteacher...",
        MONDAY,
        "15:50",
        (
            "action",
            "add",
            "{case}",
            "--owner",
            "Headteacher",
            "--due",
            "{wednesday}",
            "--text-file",
            "-",
        ),
        stdin="Meet Mr Price with the HR adviser; ask him to end all online contact.\n",
        keep=("meeting", r"^(\d+)$"),
    ),
    Step(
        "... and one for the DSL.",
        MONDAY,
        "15:55",
        ("action", "add", "{case}", "--owner", DSL, "--due", "{tuesday}", "--text-file", "-"),
        stdin="Call Lily's parents: explain what happens next and agree support.\n",
        keep=("call_parents", r"^(\d+)$"),
    ),
    Step(
        "The DSL calls Lily's parents at 09:05.",
        TUESDAY,
        "09:20",
        (
            "conversation",
            "{case}",
            "--with",
            "Karen Webb",
            "--channel",
            "phone",
            "--at",
            "{tuesday} 09:05",
            "--text-file",
            "-",
        ),
        stdin=(
            "Explained the LADO's advice. Lily has blocked Mr Price. Agreed a check-in call next "
            "week.\n"
        ),
        keep=("call", r"as entry (\d+)"),
    ),
    Step(
        "The DSL's action is done.",
        TUESDAY,
        "09:25",
        ("action", "done", "{case}", "{call_parents}", "--text-file", "-"),
        stdin="Spoke to Lily's parents (see entry above).\n",
    ),
    Step(
        "The headteacher met Mr Price on Wednesday; the DSL records it on Thursday, with when "
        "it happened (the timeline shows it was recorded late).",
        THURSDAY,
        "16:00",
        (
            "conversation",
            "{case}",
            "--with",
            "Daniel Price, with the HR adviser",
            "--channel",
            "meeting",
            "--at",
            "{wednesday} 13:00",
            "--text-file",
            "-",
        ),
        stdin=(
            "Mr Price accepted that he had accepted Lily's friend request last year and "
            "messaged her. He removed the contact during the meeting and will attend "
            "safeguarding training.\n"
        ),
    ),
    Step(
        "The headteacher's action was done on Wednesday too.",
        THURSDAY,
        "16:05",
        (
            "action",
            "done",
            "{case}",
            "{meeting}",
            "--at",
            "{wednesday} 14:00",
            "--text-file",
            "-",
        ),
        stdin="Meeting held on Wednesday; contact ended.\n",
    ),
    Step(
        "Tuesday's call was with Lily's father, not her mother: a correction, while the entry "
        "it corrects stays as it was.",
        THURSDAY,
        "16:10",
        ("amend", "{case}", "{call}", "--text-file", "-"),
        stdin="Correction: the call was with Lily's father, Paul Webb, not her mother.\n",
    ),
    Step(
        "The LADO's review agrees the outcome.",
        FRIDAY,
        "11:00",
        ("advice", "{case}", "--from", LADO, "--text-file", "-"),
        stdin=(
            "Outcome agreed at the LADO review: substantiated. Managed by the school through a "
            "written warning and training; no further LADO action.\n"
        ),
    ),
    Step(
        "The DSL closes the case with that outcome.",
        FRIDAY,
        "11:30",
        ("close", "{case}", "--outcome", "substantiated", "--text-file", "-"),
        stdin="Closed on the LADO's advice. Record kept as an allegation file.\n",
    ),
    Step(
        "Lily's file: her cover sheet, then every case about her in one chronology (the one a "
        "school sends on when she moves).",
        FRIDAY,
        "11:33",
        ("file", "Lily Webb"),
    ),
    Step(
        "Lily has moved on to Northfield Academy, which keeps its own vault: its DSL creates it "
        "(a second throwaway vault, beside the first).",
        FRIDAY,
        "11:36",
        ("init",),
        env=NORTHFIELD,
    ),
    Step(
        "Northfield's DSL prints the school's key and sends it to Caldecote (it is not "
        "secret), reading its fingerprint out over the phone.",
        FRIDAY,
        "11:37",
        ("school-key",),
        env=NORTHFIELD,
        keep=("key", r"^(SGK1-[A-Z2-7]+)$"),
    ),
    Step(
        "Caldecote's DSL sends Lily's whole file, sealed to that key: only Northfield's vault "
        "can open it. Its receipt is due within 5 school days.",
        FRIDAY,
        "11:38",
        (
            "transfer",
            "Lily Webb",
            "--to",
            "Northfield Academy (demo)",
            "--key",
            "{key}",
            "--output",
            "{folder}/lily-webb.sgt",
        ),
        keep=("transfer", r"^(\d+)$"),
    ),
    Step(
        "Northfield imports it: Lily becomes a person there, with Caldecote's entries kept as "
        "theirs, and a receipt code for Caldecote.",
        FRIDAY,
        "11:45",
        ("import", "{folder}/lily-webb.sgt"),
        env=NORTHFIELD,
        keep=("code", r"^([A-Z2-7]{5}-[A-Z2-7]{5})$"),
    ),
    Step(
        "Caldecote records the receipt with that code: the transfer is done.",
        FRIDAY,
        "11:50",
        ("transfer", "receipt", "{transfer}", "{code}"),
    ),
    Step(
        "The case's timeline, as the County or the LADO would read it.",
        FRIDAY,
        "11:55",
        ("timeline", "{case}"),
    ),
)

#: The whole walk-through, in order.
STEPS: tuple[Step, ...] = (*SETUP, *DISCLOSURE, *FLOW)
