"""Where an entry's text and names come from: one text at most from standard input, no empty
observations, names asked for on a terminal (never forced into argv), and messages that say
what comes next."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import PASSPHRASE, VaultInfo, invoke, run
from tests.flowkit import Say, entry, entry_count, record


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    from safeguarding.cli import credentials

    monkeypatch.setattr(credentials, "is_interactive", lambda: True)


def stored(vault: VaultInfo, case: str, number: int) -> Any:
    from safeguarding import categories, config
    from safeguarding.cases import Casebook
    from safeguarding.vault import Vault

    unlocked = Vault.open(vault.path).unlock(vault.user, PASSPHRASE)
    try:
        return Casebook(unlocked, categories.load(), config.load()).read(case).entry(number)
    finally:
        unlocked.close()


RECORD = (
    "record",
    "--category",
    "staff-pupil-contact",
    "--subject",
    "Daniel Price",
    "--subject-role",
    "staff",
    "--disclosed-by",
    "Karen Webb",
    "--relationship",
    "parent",
    "--where",
    "the school office",
)


# 1. Two texts from one standard input, and empty observations ------------------------------


def test_two_texts_from_standard_input_are_refused_as_a_process(vault: VaultInfo) -> None:
    # `echo x | safeguard record ... --text-file - --observations-file -` saved the account and
    # silently dropped the observations (the account had read all of standard input).
    before = entry_count(vault.path)
    result = run(*RECORD, "--text-file", "-", "--observations-file", "-", input="x\n")
    assert result.returncode == 2, result.stderr
    assert "only one of --text-file and --observations-file can be '-'" in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2
    assert entry_count(vault.path) == before
    assert json.loads(invoke("cases", "--json", "--status", "all").stdout) == []


def test_two_texts_from_standard_input_are_refused_before_any_question(
    vault: VaultInfo, terminal: None
) -> None:
    before = entry_count(vault.path)
    result = invoke("record", "--text-file", "-", "--observations-file", "-", input="2\n")
    assert result.exit_code == 2, result.stderr
    assert "only one of --text-file and --observations-file can be '-'" in result.stderr
    assert "Category" not in result.stderr  # refused before the interview began
    assert entry_count(vault.path) == before


def test_one_text_from_standard_input_and_one_from_a_file_are_both_kept(
    vault: VaultInfo, say: Say
) -> None:
    observations = say("She seemed frightened.")
    result = invoke(
        *RECORD, "--text-file", "-", "--observations-file", observations, "--json", input="x"
    )
    assert result.exit_code == 0, result.stderr
    written = json.loads(result.stdout)
    disclosure = stored(vault, written["case"], written["entry"])
    assert disclosure.text == "x"
    assert disclosure.data["observations"] == "She seemed frightened."


@pytest.mark.parametrize("text", ["", "  \n\t\n"])
def test_an_empty_observations_file_is_refused(vault: VaultInfo, say: Say, text: str) -> None:
    before = entry_count(vault.path)
    result = invoke(
        *RECORD, "--text-file", say("He messages my daughter."), "--observations-file", say(text)
    )
    assert result.exit_code == 2, result.stderr
    assert "the observations cannot be empty; nothing was saved" in result.stderr
    assert entry_count(vault.path) == before


# 2. Names asked for on a terminal, never forced into argv ---------------------------------

NAMED = [
    # (the command, what is asked, the stored field)
    (("conversation", "CASE", "--channel", "phone"), "Who was the conversation with?", "with"),
    (("advice", "CASE"), "Who gave the advice?", "source"),
    (("action", "add", "CASE", "--due", "2099-01-01"), "Who is to do it?", "owner"),
]


@pytest.mark.parametrize(("command", "question", "field"), NAMED)
def test_a_missing_name_is_asked_for_on_a_terminal(
    vault: VaultInfo, say: Say, terminal: None, command: tuple[str, ...], question: str, field: str
) -> None:
    case = record(say)["case"]
    args = [case if word == "CASE" else word for word in command]
    result = invoke(*args, "--json", input="Karen Webb\nWe spoke about Instagram.\n.\n")
    assert result.exit_code == 0, result.stderr
    assert question in result.stderr
    written = stored(vault, case, json.loads(result.stdout)["entry"])
    assert written.data[field] == "Karen Webb"
    assert written.text == "We spoke about Instagram."


@pytest.mark.parametrize(
    ("command", "option"),
    [
        (("conversation", "CASE", "--channel", "phone"), "--with WHO"),
        (("advice", "CASE"), "--from WHO"),
        (("action", "add", "CASE", "--due", "2099-01-01"), "--owner WHO"),
    ],
)
def test_a_missing_name_without_a_terminal_is_a_usage_error(
    vault: VaultInfo, say: Say, command: tuple[str, ...], option: str
) -> None:
    case = record(say)["case"]
    before = entry_count(vault.path)
    args = [case if word == "CASE" else word for word in command]
    result = invoke(*args, "--text-file", say("Said."))
    assert result.exit_code == 2, result.stderr
    assert f"safeguard: missing {option}" in result.stderr
    assert f"in a script give {option}" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 2
    assert entry_count(vault.path) == before


def test_refer_asks_for_the_contact_and_reference_on_a_terminal(
    vault: VaultInfo, say: Say, terminal: None
) -> None:
    case = record(say)["case"]
    typed = "J. Okafor\nLADO-0412\nI described the messages.\n.\n"
    result = invoke("refer", case, "--to", "lado", "--json", input=typed)
    assert result.exit_code == 0, result.stderr
    assert "Who did you speak to?" in result.stderr
    referral = stored(vault, case, json.loads(result.stdout)["entry"])
    assert referral.data["contact"] == "J. Okafor"
    assert referral.data["reference"] == "LADO-0412"


def test_refer_on_a_terminal_may_leave_out_the_contact(
    vault: VaultInfo, say: Say, terminal: None
) -> None:
    case = record(say)["case"]
    result = invoke("refer", case, "--to", "police", "--json", input="\n\nReported online.\n.\n")
    assert result.exit_code == 0, result.stderr
    referral = stored(vault, case, json.loads(result.stdout)["entry"])
    assert "contact" not in referral.data and "reference" not in referral.data
    assert referral.text == "Reported online."


def test_a_decision_not_to_refer_asks_for_no_contact(
    vault: VaultInfo, say: Say, terminal: None
) -> None:
    case = record(say)["case"]
    result = invoke("refer", case, "--to", "none", "--json", input="Not needed.\n.\n")
    assert result.exit_code == 0, result.stderr
    assert "Who did you speak to?" not in result.stderr


# 3. Messages that say what comes next -------------------------------------------------------


def test_after_a_decision_not_to_refer_there_is_no_advice_to_follow(
    vault: VaultInfo, say: Say
) -> None:
    case = record(say)["case"]
    decided = invoke("refer", case, "--to", "none", "--text-file", say("Parent satisfied."))
    assert decided.exit_code == 0, decided.stderr
    assert "Follow the advice" not in decided.stderr
    assert "Keep records" in decided.stderr
    assert f"safeguard advice {case} (it asks who gave it" in decided.stderr
    assert "--from WHO" not in decided.stderr  # a name on the command line shows in ps
    advised = invoke("advice", case, "--from", "County", "--text-file", say("Keep a record."))
    assert "Follow the advice and keep records" in advised.stderr


@pytest.mark.parametrize(
    ("route", "named"),
    [("lado", "the referral to the LADO"), ("county", "the referral to the County Safeguarding")],
)
def test_a_referral_is_reported_with_the_route_s_name(
    vault: VaultInfo, say: Say, route: str, named: str
) -> None:
    case = record(say)["case"]
    result = invoke("refer", case, "--to", route, "--text-file", say("Referred."))
    assert result.exit_code == 0, result.stderr
    assert f"Recorded {named}" in " ".join(result.stderr.split())
    assert f"referral to {route} " not in result.stderr


def test_a_referral_off_the_category_s_usual_route_is_recorded_and_says_so(
    vault: VaultInfo, say: Say
) -> None:
    """A child-protection concern goes to children's social care; a DSL who refers it to the
    LADO is told the usual route, and the referral is recorded all the same."""
    case = record(say, category="child-protection", role="pupil")["case"]
    result = invoke("refer", case, "--to", "lado", "--text-file", say("Referred."))
    assert result.exit_code == 0, result.stderr
    said = " ".join(result.stderr.split())
    assert "Recorded the referral to the LADO" in said
    assert "usual route for this category is children's social care (MASH / front door)" in said
    usual = invoke("refer", case, "--to", "mash", "--text-file", say("And to MASH."))
    assert usual.exit_code == 0 and "usual route" not in usual.stderr


def test_a_future_at_on_an_action_explains_at_and_due(vault: VaultInfo, say: Say) -> None:
    case = record(say)["case"]
    before = entry_count(vault.path)
    result = invoke(
        "action", "add", case, "--owner", "Head", "--due", "2099-01-10", "--at", "2099-01-01",
        "--text-file", say("Call the parents."),
    )  # fmt: skip
    assert result.exit_code == 2, result.stderr
    assert "is in the future" in result.stderr
    assert "--at is when the action was agreed" in result.stderr
    assert "--due is when it is due" in result.stderr
    assert "safeguard action add" not in result.stderr  # not the command being run
    assert entry_count(vault.path) == before


def test_a_missing_reason_to_reopen_reads_as_a_sentence(vault: VaultInfo, say: Say) -> None:
    case = record(say)["case"]
    entry(say, "refer", case, "--to", "lado")
    entry(say, "close", case, "--outcome", "unfounded")
    before = entry_count(vault.path)
    result = invoke("reopen", case)  # no terminal, no --text-file
    assert result.exit_code == 2, result.stderr
    assert (
        "safeguard: say why the case is being reopened: --text-file PATH "
        "(or '-' for standard input)"
    ) in result.stderr
    assert "is needed" not in result.stderr
    assert entry_count(vault.path) == before


def test_a_passphrase_and_a_text_both_from_standard_input_are_refused(
    vault: VaultInfo, say: Say
) -> None:
    """`SAFEGUARD_PASSPHRASE_FILE=/dev/stdin` with `--text-file -`: the passphrase took all of
    standard input, and the note was refused as empty, which misled; now it says why."""
    case = record(say)["case"]
    before = entry_count(vault.path)
    result = run(
        "note",
        case,
        "--text-file",
        "-",
        input=f"{PASSPHRASE}\nThe note.\n",
        env={"SAFEGUARD_PASSPHRASE_FILE": "/dev/stdin", "SAFEGUARD_PASSPHRASE": ""},
    )
    assert result.returncode == 2, result.stderr
    assert (
        "standard input cannot give both the text given as '-' and SAFEGUARD_PASSPHRASE_FILE"
        in result.stderr
    )
    assert "cannot be empty" not in result.stderr
    assert entry_count(vault.path) == before
