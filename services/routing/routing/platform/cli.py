"""The operator API's use cases from a command line in the image, for a Kubernetes Job or
`kubectl exec` (deploy/README.md): the same use cases, the same audit lines, JSON out.

    python -m routing.platform create-dealership --name "Laurier Toyota" --time-zone America/Toronto \\
        --language fr_CA --admin-name "Dana Owner" --admin-email dana@laurier.example \\
        [--idempotency-key laurier-2026-12] [--hide-link]
    python -m routing.platform list-dealerships [--status suspended]
    python -m routing.platform get-dealership ID
    python -m routing.platform suspend ID [--reason "unpaid invoice"]
    python -m routing.platform resume ID
    python -m routing.platform audit [--account-id ID] [--limit 50]

Whoever can run this already reaches routing's database, so no operator token is asked; the
audit lines name `--operator` (default: $OPERATOR_NAME, else "cli")."""

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import UUID

from pydantic import ValidationError

from routing.platform import queries
from routing.platform.models import AuditLineView, CreateDealershipRequest
from routing.platform.routes import created_view, dealership_view
from routing.platform.usecases import dealerships as usecases
from routing.platform.usecases.errors import DealershipNotFound, PlatformRefusal
from routing.settings import RoutingSettings
from shared.db.engine import create_engine, create_session_factory
from shared.http.operator_auth import Operator


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="python -m routing.platform", description="Operate dealerships")
    main.add_argument("--operator", default=os.environ.get("OPERATOR_NAME", "cli"), help="Name in the audit")
    commands = main.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-dealership", help="Create a dealership and invite its first admin")
    create.add_argument("--name", required=True)
    create.add_argument("--time-zone", default="America/Toronto", help="IANA zone")
    create.add_argument("--language", default="en", choices=["en", "fr_CA"])
    create.add_argument("--admin-name", required=True)
    create.add_argument("--admin-email", required=True)
    create.add_argument("--idempotency-key", help="A re-run with the same key answers the same dealership")
    create.add_argument(
        "--hide-link", action="store_true", help="Leave the invitation link out (a Job's output is logged)"
    )
    listing = commands.add_parser("list-dealerships", help="Every dealership, oldest first")
    listing.add_argument("--status", choices=["active", "suspended"])
    for name, text in (("get-dealership", "One dealership"), ("resume", "Resume a suspended dealership")):
        one = commands.add_parser(name, help=text)
        one.add_argument("account_id", type=UUID)
    suspend = commands.add_parser("suspend", help="Suspend a dealership (nothing is deleted)")
    suspend.add_argument("account_id", type=UUID)
    suspend.add_argument("--reason")
    audit = commands.add_parser("audit", help="Operator calls, newest first")
    audit.add_argument("--account-id", type=UUID)
    audit.add_argument("--limit", type=int, default=50)
    return main


async def run(args: argparse.Namespace, settings: RoutingSettings) -> dict | list:
    operator = Operator(name=args.operator, fingerprint="cli")
    now = datetime.now(UTC)
    engine = create_engine(settings)
    sessions = create_session_factory(engine)
    try:
        if args.command == "create-dealership":
            body = CreateDealershipRequest(
                name=args.name,
                time_zone=args.time_zone,
                language=args.language,
                admin={"name": args.admin_name, "email": args.admin_email},
            )
            new = usecases.NewDealership(
                body.name, body.time_zone, body.language, body.admin.name, body.admin.email
            )
            async with sessions.begin() as session:
                created = await usecases.create_dealership(
                    session, settings, new, operator, now, args.idempotency_key
                )
            answer = created_view(created.dealership).model_dump(mode="json")
            if args.hide_link:
                answer["admin_invitation"]["link"] = None  # it was e-mailed to the admin
            return answer
        if args.command == "list-dealerships":
            async with sessions() as session:
                found, after = [], None
                while page := await queries.list_dealerships(session, 500, after, args.status):
                    found += page
                    after = (page[-1].created_at, page[-1].id)
            return [dealership_view(d).model_dump(mode="json") for d in found]
        if args.command == "get-dealership":
            async with sessions() as session:
                dealership = await queries.find_dealership(session, args.account_id)
            if dealership is None:
                raise DealershipNotFound("dealership not found")
            return dealership_view(dealership).model_dump(mode="json")
        if args.command in ("suspend", "resume"):
            async with sessions.begin() as session:
                if args.command == "suspend":
                    changed = await usecases.suspend_dealership(
                        session, args.account_id, operator, now, args.reason
                    )
                else:
                    changed = await usecases.resume_dealership(session, args.account_id, operator, now)
            return dealership_view(changed).model_dump(mode="json")
        async with sessions() as session:
            lines = await queries.audit_lines(session, args.limit, None, args.account_id)
        return [AuditLineView(**line.__dict__).model_dump(mode="json") for line in lines]
    finally:
        await engine.dispose()


def main(argv: Sequence[str] | None = None, settings: RoutingSettings | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        answer = asyncio.run(run(args, settings or RoutingSettings()))
    except ValidationError as exc:
        problems = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
        print(json.dumps({"error": {"code": "invalid_request", "details": problems}}), file=sys.stderr)
        return 2
    except PlatformRefusal as exc:
        print(json.dumps({"error": {"code": exc.code, "message": str(exc)}}), file=sys.stderr)
        return 1
    print(json.dumps(answer, indent=2))
    return 0
