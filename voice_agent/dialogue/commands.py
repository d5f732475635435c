"""`voice-agent chat`: the dialogue engine in text, against the configured database.

Interactive by default (type as the caller; ``dtmf: 4567#`` types on the keypad). With
``--script FILE`` (``-`` for stdin) it reads JSON lines ``{"caller": "..."}`` or
``{"dtmf": "4567#"}`` and prints one JSON line per agent turn, the greeting first. A caller
line may say how the ASR heard it, as a call's transcript would: ``{"caller": "4 7 7 0 0",
"confidence": 0.4, "rewritten": true}`` (defaults 1.0 and false).
Output:
``{"agent": "...", "actions": [{"type": "claim", ...}], "expect": "yes_no", "end_call": false}``.

Every reply is committed as it is given (its writes and both turns, in one transaction), as a
call session does; ``--now`` fixes the time for reproducible runs against demo data.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from voice_agent.errors import CliError
from voice_agent.jsontext import JsonTextError, parse_json_text
from voice_agent.languages import language_of_tag
from voice_agent.lexicon import text_language
from voice_agent.settings import Settings
from voice_agent.store.commands import aware_time

if TYPE_CHECKING:
    from voice_agent.dialogue.nlu import Understand
    from voice_agent.dialogue.state import Reply

logger = logging.getLogger(__name__)

CHANNEL = "chat"


def add_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    chat = sub.add_parser(
        "chat", parents=[common], help="talk to the dialogue engine in text (or run a script)"
    )
    chat.add_argument(
        "--script",
        type=Path,
        metavar="FILE",
        help='JSON lines {"caller": "..."} (optionally with "confidence": 0.4, '
        '"rewritten": true) or {"dtmf": "..."} ("-" for stdin); '
        "prints one JSON line per agent turn",
    )
    chat.add_argument(
        "--now",
        type=_time,
        default=None,
        metavar="TIME",
        help="ISO 8601 time the conversation happens at (default: the clock)",
    )
    chat.add_argument(
        "--language",
        default=None,
        metavar="CODE",
        help="the conversation's language hint, e.g. de (default: languages.default until "
        "the caller's words say otherwise)",
    )
    chat.set_defaults(command=_chat)


def _language_hint(tag: str | None, offered: tuple[str, ...]) -> str | None:
    if tag is None:
        return None
    code = language_of_tag(tag)
    if code not in offered:
        raise CliError(f"--language {tag!r}: offered languages are {', '.join(offered)}")
    return code


def _time(text: str) -> datetime:
    return aware_time(text).astimezone(UTC)


class _Chat:
    """One conversation: the engine, its state, and the store its replies are committed to."""

    def __init__(
        self,
        args: argparse.Namespace,
        settings: Settings,
        understand: Understand | None = None,
    ) -> None:
        """``understand``: the App's intent classifier, built here unless one is given (a
        harness running many chats shares one; it is the same classifier a call uses)."""
        from voice_agent.app import App
        from voice_agent.dialogue.engine import DialogueEngine
        from voice_agent.dialogue.policies import load_policies
        from voice_agent.store.db import open_database
        from voice_agent.store.repository import Repository

        self.fixed_now: datetime | None = args.now
        policies = load_policies(settings.paths.resolve(settings.dialogue.policies))
        if understand is None:
            understand = App(settings).understander  # the intent classifier, as in a call
        self.database = open_database(settings.store, settings.paths)
        self.repository = Repository(self.database)
        self.engine = DialogueEngine(
            self.repository,
            policies,
            settings.languages.default,
            understand=understand,
            offered=settings.languages.offered,
        )
        hint = _language_hint(getattr(args, "language", None), settings.languages.offered)
        started = self.now()
        self.conversation = self.repository.start_conversation(CHANNEL, None, started)
        self.state = self.engine.initial_state(self.conversation, None, hint)
        self.offered = settings.languages.offered

    def now(self) -> datetime:
        # The wall clock is read here, at the edge; the engine and store never read it.
        return self.fixed_now or datetime.now(UTC)

    def greeting(self) -> Reply:
        from voice_agent.store.writes import TurnRecord, TurnWrite

        at = self.now()
        reply = self.engine.greeting(self.state)
        record = TurnRecord(speaker="agent", text=reply.text, started_at=at, ended_at=at)
        self.repository.apply([TurnWrite(conversation_id=self.conversation, record=record)])
        self.state = reply.state
        return reply

    def turn(self, line: ScriptLine) -> Reply:
        from voice_agent.dialogue.state import UserTurn
        from voice_agent.store.writes import TurnRecord, TurnWrite

        at = self.now()
        text, dtmf = line.caller, line.dtmf
        turn = UserTurn(
            text,
            dtmf,
            confidence=line.confidence,
            rewritten=line.rewritten,
            language=text_language(text, self.offered) if text else None,
        )
        reply = self.engine.respond(turn, self.state, at)
        said = text or f"(keypad) {dtmf}"
        turns = [
            TurnWrite(
                conversation_id=self.conversation,
                record=TurnRecord(speaker=speaker, text=words, started_at=at, ended_at=at),
            )
            for speaker, words in (("caller", said), ("agent", reply.text))
        ]
        self.repository.apply([turns[0], *reply.writes, turns[1]])
        self.state = reply.state
        return reply

    def close(self) -> None:
        self.repository.end_conversation(self.conversation, self.now())
        self.database.close()


def _chat(args: argparse.Namespace, settings: Settings) -> int:
    from voice_agent.dialogue.classifier import ExemplarError
    from voice_agent.dialogue.policies import PolicyError
    from voice_agent.dialogue.replies import LanguageError
    from voice_agent.models import ModelError
    from voice_agent.store.db import StoreError

    try:
        chat = _Chat(args, settings)
    except (PolicyError, LanguageError, ExemplarError, ModelError, StoreError) as error:
        raise CliError(str(error)) from None
    try:
        if args.script is None:
            return _interactive(chat)
        if str(args.script) == "-":
            return _scripted(chat, sys.stdin, "<stdin>")
        try:
            with args.script.open(encoding="utf-8") as handle:
                return _scripted(chat, handle, str(args.script))
        except OSError as error:
            raise CliError(f"cannot read script {args.script}: {error.strerror}") from None
    finally:
        chat.close()


def _scripted(chat: _Chat, lines: TextIO, source: str) -> int:
    turns = list(_script_turns(lines, source))  # all checked before the first turn is stored
    _print_json(chat.greeting())
    for index, line in enumerate(turns):
        reply = chat.turn(line)
        _print_json(reply)
        if reply.end_call:
            left = len(turns) - index - 1
            if left:
                print(f"{source}: the call ended; {left} more line(s) not used", file=sys.stderr)
            return 0
    if not turns:
        raise CliError(f"{source}: no caller lines")
    return 0


@dataclass(frozen=True, slots=True)
class ScriptLine:
    """One caller turn of a script: what they said (and how surely it was heard) or typed."""

    caller: str
    dtmf: str | None = None
    confidence: float = 1.0
    rewritten: bool = False


def _script_turns(lines: TextIO, source: str) -> Iterator[ScriptLine]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            entry = parse_json_text(line)
        except JsonTextError as error:
            raise CliError(f"{source}:{number}: not JSON ({error})") from None
        caller = entry.get("caller", "") if isinstance(entry, dict) else None
        dtmf = entry.get("dtmf") if isinstance(entry, dict) else None
        if not isinstance(caller, str) or not (dtmf is None or isinstance(dtmf, str)):
            raise CliError(
                f'{source}:{number}: expected {{"caller": "text"}} or {{"dtmf": "digits"}}'
            )
        if not caller.strip() and not dtmf:
            raise CliError(f"{source}:{number}: the line says nothing")
        assert isinstance(entry, dict)
        confidence = entry.get("confidence", 1.0)
        if isinstance(confidence, bool) or not isinstance(confidence, int | float):
            raise CliError(f"{source}:{number}: confidence must be a number from 0 to 1")
        if not 0 <= confidence <= 1:
            raise CliError(f"{source}:{number}: confidence must be a number from 0 to 1")
        rewritten = entry.get("rewritten", False)
        if not isinstance(rewritten, bool):
            raise CliError(f"{source}:{number}: rewritten must be true or false")
        yield ScriptLine(caller, dtmf, float(confidence), rewritten)


def _print_json(reply: Reply) -> None:
    line = {
        "agent": reply.text,
        "actions": list(reply.actions),
        "expect": reply.expect.value,
        "end_call": reply.end_call,
        "language": reply.language,
    }
    print(json.dumps(line, ensure_ascii=False), flush=True)


def _interactive(chat: _Chat) -> int:
    print(f"agent: {chat.greeting().text}", flush=True)
    prompt = "you: " if sys.stdin.isatty() else ""  # piped input: agent lines only
    while True:
        try:
            said = input(prompt).strip()
        except EOFError:
            return 0
        if not said:
            continue
        dtmf = said.split(":", 1)[1].strip() if said.lower().startswith("dtmf:") else None
        reply = chat.turn(ScriptLine("" if dtmf else said, dtmf))
        print(f"agent: {reply.text}", flush=True)
        for action in reply.actions:
            details = ", ".join(f"{key}={value}" for key, value in action.items() if key != "type")
            print(f"  [{action['type']}] {details}", flush=True)
        if reply.end_call:
            return 0
