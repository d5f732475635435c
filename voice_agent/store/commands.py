"""The `voice-agent data` command: `import FILE.json`, `demo`, `unlock ORDER`, `export`, and
for personal data `purge [--before TIME]` and `erase --customer EMAIL|PHONE`.

The store's modules are imported when a command runs, not when the CLI parses its arguments,
so that other commands do not pay for SQLAlchemy, Alembic and jsonschema.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from voice_agent.settings import Settings

logger = logging.getLogger(__name__)


def add_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    data = sub.add_parser("data", parents=[common], help="load shop data into the store")
    actions = data.add_subparsers(required=True, metavar="ACTION")

    load = actions.add_parser(
        "import",
        parents=[common],
        help="import a shop file (format voice-agent-shop/1, docs/import-format.md)",
    )
    load.add_argument("file", type=Path, metavar="FILE.json")
    load.add_argument(
        "--check", action="store_true", help="validate only; change nothing in the database"
    )
    load.set_defaults(command=_import)

    demo = actions.add_parser("demo", parents=[common], help="load the demo shop")
    demo.add_argument(
        "--anchor",
        type=aware_time,
        default=None,
        metavar="TIME",
        help="ISO 8601 time the demo's tracking ages count back from (default: now)",
    )
    demo.add_argument(
        "--write",
        type=Path,
        metavar="FILE.json",
        help="write the demo shop file there instead of importing it",
    )
    demo.set_defaults(command=_demo)

    unlock = actions.add_parser(
        "unlock",
        parents=[common],
        help="lift the verification locks on an order (after checking who is calling)",
    )
    unlock.add_argument("order", metavar="ORDER", help="the order number, as callers say it")
    unlock.add_argument(
        "--now",
        type=aware_time,
        default=None,
        metavar="TIME",
        help="ISO 8601 time to lift them at (default: now)",
    )
    unlock.set_defaults(command=_unlock)

    export = actions.add_parser(
        "export",
        parents=[common],
        help="write the actions for the shop (the outbox's events) as JSON (docs/webhooks.md)",
    )
    export.add_argument(
        "--since",
        type=day_or_time,
        required=True,
        metavar="TIME",
        help="ISO 8601 date (UTC midnight) or time with offset: events created at or after it",
    )
    export.add_argument(
        "--until",
        type=day_or_time,
        default=None,
        metavar="TIME",
        help="ISO 8601 date or time: events created before it (default: all)",
    )
    export.add_argument(
        "--out", type=Path, default=None, metavar="FILE", help="write there (default: stdout)"
    )
    export.set_defaults(command=_export)

    purge = actions.add_parser(
        "purge",
        parents=[common],
        help="remove the recordings and transcripts of old calls (keeps outcomes and actions)",
    )
    purge.add_argument(
        "--before",
        type=day_or_time,
        default=None,
        metavar="TIME",
        help="ISO 8601 date (midnight UTC) or time with its offset: calls started before it "
        "(default: now - recordings.retention_days)",
    )
    purge.set_defaults(command=_purge)

    erase = actions.add_parser(
        "erase",
        parents=[common],
        help="remove everything stored about one person (a data-erasure request)",
    )
    erase.add_argument(
        "--customer",
        required=True,
        metavar="EMAIL|PHONE",
        help="the person's e-mail address or phone number",
    )
    erase.set_defaults(command=_erase)


def aware_time(text: str) -> datetime:
    """An argparse type: an ISO 8601 time with its UTC offset (shared by the commands)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no UTC offset (add Z or e.g. +02:00)")
    return moment


def day_or_time(text: str) -> datetime:
    """An argparse type: an ISO 8601 date (midnight UTC) or a time with its UTC offset."""
    if len(text) == 10:
        try:
            return datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 date") from None
    return aware_time(text).astimezone(UTC)


def _import(args: argparse.Namespace, settings: Settings) -> int:
    from voice_agent.store.db import StoreError, open_database
    from voice_agent.store.importer import import_document
    from voice_agent.store.shopfile import read_shop_file

    try:
        document = read_shop_file(args.file)
        if args.check:
            return _check_only(document, settings, str(args.file))
        with open_database(settings.store, settings.paths) as database:
            # The wall clock is read here, at the edge: when the shop confirmed address changes.
            summary = import_document(database, document, str(args.file), datetime.now(UTC))
    except StoreError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"{args.file}: imported ({summary})")
    return 0


def _check_only(document: Any, settings: Settings, source: str) -> int:
    from voice_agent.store.db import open_database
    from voice_agent.store.repository import Repository
    from voice_agent.store.shopfile import shop_data

    with open_database(settings.store, settings.paths) as database:
        known = {product.sku for product in Repository(database).products()}
    shop = shop_data(document, source, known)
    print(f"{source}: valid ({len(shop.products)} products, {len(shop.orders)} orders)")
    return 0


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from voice_agent.store.db import StoreError, open_database
    from voice_agent.store.demo import demo_document
    from voice_agent.store.importer import import_document

    # The wall clock is read here, at the edge, and nowhere in the store.
    anchor: datetime = args.anchor or datetime.now(UTC)
    document = demo_document(anchor)
    if args.write is not None:
        args.write.write_text(json.dumps(document, indent=2, default=_json_number) + "\n")
        print(f"{args.write}: demo shop written (anchor {anchor.isoformat()})")
        return 0
    try:
        with open_database(settings.store, settings.paths) as database:
            summary = import_document(database, document, "demo shop", datetime.now(UTC))
            where = database.engine.url.render_as_string(hide_password=True)
    except StoreError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"demo shop loaded into {where} ({summary}; anchor {anchor.isoformat()})")
    return 0


def _unlock(args: argparse.Namespace, settings: Settings) -> int:
    from voice_agent.store.db import StoreError, open_database
    from voice_agent.store.repository import Repository

    # The wall clock is read here, at the edge, and nowhere in the store.
    now: datetime = (args.now or datetime.now(UTC)).astimezone(UTC)
    try:
        with open_database(settings.store, settings.paths) as database:
            lifted = Repository(database).lift_locks(args.order, now)
    except StoreError as error:
        print(error, file=sys.stderr)
        return 1
    if not lifted:
        print(f"order {args.order}: no lock running; nothing lifted")
        return 0
    count = len(lifted)
    print(f"order {args.order}: lifted {count} lock(s); earlier failed attempts count no more")
    for lock in lifted:
        who = "every caller" if lock.caller is None else f"caller {lock.caller}"
        until = lock.until.astimezone(UTC).isoformat().replace("+00:00", "Z")
        print(f"  {who}, locked until {until}")
    return 0


def _export(args: argparse.Namespace, settings: Settings) -> int:
    from voice_agent.store.db import StoreError, open_database
    from voice_agent.store.outbox import Outbox, export_document

    if args.until is not None and args.until <= args.since:
        print("--until must be later than --since", file=sys.stderr)
        return 2
    try:
        with open_database(settings.store, settings.paths) as database:
            entries = Outbox(database).entries(args.since, args.until)
    except StoreError as error:
        print(error, file=sys.stderr)
        return 1
    text = json.dumps(export_document(entries), indent=2, ensure_ascii=False) + "\n"
    if args.out is None:
        sys.stdout.write(text)
        return 0
    try:
        args.out.write_text(text, encoding="utf-8")
    except OSError as error:
        print(f"{args.out}: cannot write ({error.strerror or error})", file=sys.stderr)
        return 1
    print(f"{args.out}: {len(entries)} events written", file=sys.stderr)
    return 0


def _purge(args: argparse.Namespace, settings: Settings) -> int:
    from voice_agent.store.db import StoreError, open_database
    from voice_agent.store.retention import purge

    # The wall clock is read here, at the edge, and nowhere in the store.
    retention = timedelta(days=settings.recordings.retention_days)
    before: datetime = (args.before or datetime.now(UTC) - retention).astimezone(UTC)
    recordings = settings.paths.resolve(settings.recordings.dir)
    try:
        with open_database(settings.store, settings.paths) as database:
            purged = purge(database, recordings, before)
    except (StoreError, OSError) as error:
        print(f"nothing purged: {error}", file=sys.stderr)
        return 1
    when = before.isoformat().replace("+00:00", "Z")
    print(f"calls started before {when}: {purged.conversations} conversation(s)")
    print(f"  removed {purged.recordings} recording(s), {purged.turns} transcript turn(s)")
    print(f"  purged the transcript of {purged.handoff_transcripts} hand-off(s)")
    if purged.stray_files:
        print(f"  removed {purged.stray_files} recording file(s) no conversation referred to")
    print("  kept: the conversations (times, outcomes) and their actions (claims, hand-offs, ...)")
    return 0


def _erase(args: argparse.Namespace, settings: Settings) -> int:
    from voice_agent.store.db import StoreError, open_database
    from voice_agent.store.retention import customer_key, erase

    try:
        customer_key(args.customer)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    recordings = settings.paths.resolve(settings.recordings.dir)
    try:
        with open_database(settings.store, settings.paths) as database:
            erased = erase(database, recordings, args.customer)
    except (StoreError, OSError) as error:
        print(error, file=sys.stderr)
        return 1
    print(f"erased what this agent stored about {args.customer}:")
    for kind, count in erased.counts.items():
        print(f"  {kind}: {count}")
    print(
        "Not reached: the shop's own systems keep their copy of the customer and orders (a new "
        "import brings them back unless they are removed there too), webhooks already "
        "delivered, and backups."
    )
    return 0


def _json_number(value: object) -> float:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"not JSON: {value!r}")
