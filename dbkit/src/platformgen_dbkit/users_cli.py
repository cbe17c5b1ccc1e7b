"""The `dbkit users plan|apply|rotate` subcommand (registered by cli.py)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from .errors import EXIT_OK, EXIT_WARNINGS, DbkitError
from .output import table


def register(sub: Any) -> None:
    users = sub.add_parser("users", help="database users as code: plan, apply, rotate (database/users.json)")
    actions = users.add_subparsers(dest="users_command", required=True, parser_class=type(users))
    for name, text in (
        ("plan", "show what apply would change (exit 1 when something would)"),
        ("apply", "make the server's users and grants match the file; write empty secrets"),
        ("rotate", "new password on the standby user, then point the secret at it"),
    ):
        p = actions.add_parser(name, help=text)
        p.add_argument(
            "--users",
            type=Path,
            default=Path("database/users.json"),
            help="the users file (default database/users.json)",
        )
        p.add_argument("--env", required=True, help="the environment (its secrets and region)")
        p.add_argument(
            "--target",
            help="the master's DSN (default: $DBKIT_ADMIN_DSN; password in $DBKIT_ADMIN_PASSWORD)",
        )
        p.add_argument(
            "--passwords",
            choices=["secretsmanager", "env"],
            default="secretsmanager",
            help="where credentials live: Secrets Manager <project>/<env>/database/<user> (default), or "
            "DBKIT_PASSWORD_<USER> in the environment",
        )
        p.add_argument("--json", action="store_true", help="print JSON instead of a table")
        if name == "rotate":
            p.add_argument("--user", required=True, help="the logical user to rotate (e.g. api, readonly)")
            p.add_argument(
                "--switch-to-target",
                action="store_true",
                help="the secret names another server (a migration source): point it at this one (cutover)",
            )


def _print_actions(actions: list[Any], applied: bool) -> None:
    if not actions:
        print("No changes: the users and grants match the file, and every secret has its value.")
        return
    table(["user", "mysql user", "action", "detail"], [[a.user, a.mysql_user, a.action, a.detail] for a in actions])
    verb = "applied" if applied else "to apply"
    print(f"\n{len(actions)} changes {verb}")


def run(args: argparse.Namespace) -> int:
    from .credentials import open_store
    from .db import parse_dsn, session
    from .userfile import load_users
    from .users import apply, lock, plan, rotate

    users = load_users(args.users).for_env(args.env)
    store = open_store(args.passwords, users, args.env)
    text = args.target or os.environ.get("DBKIT_ADMIN_DSN")
    if not text:
        raise DbkitError(
            "no admin DSN given: users plan, apply and rotate run as the master (break-glass)",
            "pass --target mysql://USER@HOST:PORT/DATABASE or set DBKIT_ADMIN_DSN, with the password in "
            "DBKIT_ADMIN_PASSWORD",
        )
    admin = parse_dsn(text, "admin")
    with session(admin) as conn:
        if args.users_command != "plan":
            lock(conn)
        if args.users_command == "rotate":
            actions, rotation = rotate(conn, admin, users, store, args.user, switch=args.switch_to_target)
            if args.json:
                print(
                    json.dumps(
                        {"env": args.env, "applied": [a.as_dict() for a in actions], "rotation": rotation.as_dict()},
                        indent=2,
                    )
                )
            else:
                if actions:
                    _print_actions(actions, applied=True)
                print(
                    f"Rotated {rotation.user}: {rotation.where} now names {rotation.current} (new password); "
                    f"{rotation.previous} keeps its password until the next rotation."
                )
            return EXIT_OK
        actions, notes = plan(conn, admin, users, store)
        for note in notes:
            sys.stderr.write(f"note: {note}\n")
        if args.users_command == "apply":
            if not args.json:
                _print_actions(actions, applied=False)  # the plan, shown before it runs
            apply(actions)
        if args.json:
            key = "applied" if args.users_command == "apply" else "changes"
            doc: dict[str, Any] = {"env": args.env, key: [a.as_dict() for a in actions]}
            if notes:
                doc["notes"] = notes
            print(json.dumps(doc, indent=2))
        elif args.users_command == "apply" and actions:
            print("Applied.")
        elif args.users_command == "plan":
            _print_actions(actions, applied=False)
    if args.users_command == "plan" and actions:
        return EXIT_WARNINGS
    return EXIT_OK
