"""The day-0 dialog table: which commands the bootstrap types and how it answers their questions.

This is data on purpose. The console strings of a real C100V are inferred (CONSOLE.md); a user whose
release asks differently dumps this table (``--print-dialogs > day0.yaml``), edits it and passes it
back (``--dialogs day0.yaml``). Every step is one command typed at the main prompt:

* ``answers``: rules tried in order against the question (the text the guest printed since our last
  answer, prompt line included; regexes, case-insensitive, ``^``/``$`` per line). The first rule that
  matches gives the answer; a list of answers is used one per occurrence (the last one repeats).
  Answers are templates: ``{hostname}``, ``{ip}``, ``{prefix}``, ``{netmask}``, ``{gateway}``,
  ``{ssh_port}``, ``{https_port}``, ``{api_port}``, ``{smtp_port}`` (guest ports), ``{username}``,
  ``{password}`` (masked in every log).
* A ``[...]> `` question no rule matches is answered with an empty line, i.e. its default, and noted
  in the log; the same question asked more than ``max_repeats`` times fails the step (a loop).
* ``expect_output``: a regex the step's output must contain; ``expect_prompt``: a template the main
  prompt must contain when the step ends (the hostname after ``commit``).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

import yaml

FLAGS = re.IGNORECASE | re.MULTILINE


@dataclass(frozen=True)
class Answer:
    pattern: str  # regex searched in the question text
    answer: str | list[str]  # template(s); a list gives one answer per occurrence
    note: str = ""  # why, for the person editing the table

    def pick(self, occurrence: int) -> str:
        if isinstance(self.answer, str):
            return self.answer
        return self.answer[min(occurrence, len(self.answer) - 1)]


@dataclass(frozen=True)
class Step:
    name: str
    command: str
    answers: list[Answer] = field(default_factory=list)
    expect_output: str = ""
    expect_prompt: str = ""
    timeout: float = 120.0  # seconds for the whole step (a commit on a slow guest takes a while)
    max_repeats: int = 3


# Questions the appliance may ask right after the password (none in CONSOLE.md; a release that forces a
# password change or shows a licence agreement at first login needs rules here).
LOGIN_ANSWERS: list[Answer] = []

DAY0_STEPS: list[Step] = [
    Step("sethostname", "sethostname", [
        Answer(r"\]> ?$", "{hostname}", "the only question: the new hostname, current one as default"),
    ]),
    Step("interfaceconfig", "interfaceconfig", [
        Answer(r"Choose the operation you want to perform", ["EDIT", ""],
               "first EDIT the Management interface; when the menu comes back, an empty line leaves it"),
        Answer(r"number of the interface you wish to edit", "1", "Management is interface 1"),
        Answer(r"configure an IPv4 address", "Y"),
        Answer(r"^IPv4 Address", "{ip}"),
        Answer(r"^Netmask", "{prefix}"),
        Answer(r"configure an IPv6 address", "N"),
        Answer(r"^Hostname:", "{hostname}"),
        Answer(r"enable SSH on this interface", "Y"),
        Answer(r"port do you want to use for SSH\?", "{ssh_port}"),
        Answer(r"enable HTTPS on this interface", "Y"),
        Answer(r"port do you want to use for HTTPS\?", "{https_port}"),
        Answer(r"enable AsyncOS API HTTPS on this interface", "Y"),
        Answer(r"port do you want to use for AsyncOS API HTTPS\?", "{api_port}"),
        Answer(r"Are you sure you want to change it", "Y", "we are on the console, not on that interface"),
    ]),
    Step("setgateway", "setgateway", [
        Answer(r"^Enter new default gateway", "{gateway}"),
    ]),
    Step("commit", "commit", [
        Answer(r"enter some comments", "ctrlab day-0"),
        Answer(r"save the current configuration for rollback", "Y"),
    ], expect_output=r"Changes committed|There is no data to commit", expect_prompt="{hostname}", timeout=300.0),
]


def compile_pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, FLAGS)


def check_steps(steps: list[Step]) -> None:
    """Refuse a table with a bad regex or an unknown template field before anything boots."""
    probe = {k: "x" for k in ("hostname", "ip", "prefix", "netmask", "gateway", "ssh_port", "https_port",
                              "api_port", "smtp_port", "username", "password")}
    for step in steps:
        for text in (step.expect_output, *(a.pattern for a in step.answers)):
            try:
                compile_pattern(text)
            except re.error as exc:
                raise ValueError(f"dialog step {step.name!r}: bad regex {text!r}: {exc}") from None
        templates = [step.command, step.expect_prompt,
                     *(x for a in step.answers for x in ([a.answer] if isinstance(a.answer, str) else a.answer))]
        for template in templates:
            try:
                template.format(**probe)
            except (KeyError, IndexError, ValueError) as exc:
                raise ValueError(f"dialog step {step.name!r}: bad template {template!r}: {exc!r}") from None


@dataclass(frozen=True)
class DialogTable:
    steps: list[Step] = field(default_factory=lambda: list(DAY0_STEPS))
    login_answers: list[Answer] = field(default_factory=lambda: list(LOGIN_ANSWERS))


def table_to_yaml(table: DialogTable) -> str:
    data = {"login_answers": [_drop_empty(asdict(a)) for a in table.login_answers],
            "steps": [_drop_empty(asdict(s)) for s in table.steps]}
    header = "# The C100V day-0 dialog table (virtual_appliances/c100v/dialogs.py explains the fields).\n"
    return header + yaml.safe_dump(data, sort_keys=False, width=120, allow_unicode=True)


def table_from_yaml(text: str, source: str = "<dialogs>") -> DialogTable:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"{source}: not YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("steps"), list):
        raise ValueError(f"{source}: expected a mapping with a 'steps' list (see --print-dialogs)")
    steps: list[Step] = []
    for i, raw in enumerate(data["steps"]):
        if not isinstance(raw, dict):
            raise ValueError(f"{source}: steps[{i}] must be a mapping")
        try:
            answers = [Answer(**a) for a in raw.get("answers") or []]
            steps.append(Step(**{**raw, "answers": answers}))
        except TypeError as exc:
            raise ValueError(f"{source}: steps[{i}]: {exc}") from None
    try:
        login = [Answer(**a) for a in data.get("login_answers") or []]
    except TypeError as exc:
        raise ValueError(f"{source}: login_answers: {exc}") from None
    check_steps([*steps, Step("login", "", login)])
    return DialogTable(steps, login)


def _drop_empty(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_empty(v) for k, v in value.items() if v not in ("", None)}
    if isinstance(value, list):
        return [_drop_empty(v) for v in value]
    return value
