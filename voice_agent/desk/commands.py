"""The `voice-agent desk` command: `add-user NAME --role admin|agent`, `list-users`,
`disable-user NAME` and `enable-user NAME`.

The store and argon2 are imported when a command runs, not when the CLI parses its
arguments.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import UTC, datetime

from voice_agent.errors import CliError
from voice_agent.settings import Settings
from voice_agent.store.views import OPERATOR_ROLES

USERNAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-@")
MAX_USERNAME = 64


def add_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    desk = sub.add_parser("desk", parents=[common], help="the support desk's operators")
    actions = desk.add_subparsers(required=True, metavar="ACTION")

    add = actions.add_parser("add-user", parents=[common], help="add an operator")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--role", choices=OPERATOR_ROLES, default="agent")
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input (scripts)",
    )
    add.set_defaults(command=_add_user)

    listing = actions.add_parser("list-users", parents=[common], help="list the operators")
    listing.set_defaults(command=_list_users)

    disable = actions.add_parser(
        "disable-user", parents=[common], help="stop an operator signing in (ends their sessions)"
    )
    disable.add_argument("name", metavar="NAME")
    disable.set_defaults(command=_set_disabled, disabled=True)

    enable = actions.add_parser("enable-user", parents=[common], help="let an operator back in")
    enable.add_argument("name", metavar="NAME")
    enable.set_defaults(command=_set_disabled, disabled=False)


def check_username(name: str) -> str:
    """The user name as stored (lower case); CliError when it cannot be one."""
    username = name.strip().lower()
    if not username or len(username) > MAX_USERNAME or set(username) - USERNAME_CHARS:
        raise CliError(
            f"user name {name!r}: use 1 to {MAX_USERNAME} letters, digits and . _ - @ only"
        )
    return username


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    try:
        first = getpass.getpass(f"password for {args.name}: ")
        again = getpass.getpass("the same password again: ")
    except EOFError:
        raise CliError("no password given (use --password-stdin in scripts)") from None
    if first != again:
        raise CliError("the two passwords differ; nothing was changed")
    return first


def _add_user(args: argparse.Namespace, settings: Settings) -> int:
    from voice_agent.desk.passwords import WeakPasswordError, check_strength, hash_password
    from voice_agent.store.db import StoreError, open_database
    from voice_agent.store.desk import DeskRepository

    username = check_username(args.name)
    password = _read_password(args)
    try:
        check_strength(password, username)
    except WeakPasswordError as error:
        raise CliError(f"{error}; {username} was not added") from None
    try:
        with open_database(settings.store, settings.paths) as database:
            operator = DeskRepository(database).add_operator(
                username, hash_password(password), args.role, datetime.now(UTC)
            )
    except StoreError as error:
        raise CliError(str(error)) from None
    print(f"added {operator.username} ({operator.role}); sign in at /desk")
    return 0


def _list_users(args: argparse.Namespace, settings: Settings) -> int:
    from voice_agent.store.db import open_database
    from voice_agent.store.desk import DeskRepository

    with open_database(settings.store, settings.paths) as database:
        operators = DeskRepository(database).operators()
    if not operators:
        print("no operators yet: voice-agent desk add-user NAME --role admin")
    for operator in operators:
        state = "disabled" if operator.disabled else "active"
        added = operator.created_at.strftime("%Y-%m-%d")
        print(f"{operator.username:24} {operator.role:6} {state:8} added {added}")
    return 0


def _set_disabled(args: argparse.Namespace, settings: Settings) -> int:
    from voice_agent.store.db import StoreError, open_database
    from voice_agent.store.desk import DeskRepository

    try:
        with open_database(settings.store, settings.paths) as database:
            operator = DeskRepository(database).set_disabled(
                check_username(args.name), args.disabled
            )
    except StoreError as error:
        raise CliError(str(error)) from None
    print(f"{operator.username}: {'disabled' if operator.disabled else 'enabled'}")
    return 0
