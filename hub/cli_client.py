"""The court commands of ``hub`` (``case``, ``inquire``, ``order``, ``events``) and ``hub asyncapi``.

Each court command talks to the gateway through :class:`hub.client.HubClient`: the gateway from
``--gateway`` or ``HUB_GATEWAY_HOST``/``HUB_GATEWAY_PORT``; the token from ``--token``, else the
court's (``--court``, default the first) in ``HUB_COURT_TOKENS`` or in the ``credentials.json`` that
``hub up`` writes; the officer from ``--officer``, else the court's first in ``HUB_COURT_OFFICERS``
(``officer-<court>-1`` as ``hub up`` generates them). ``--json`` prints the gateway's answer as JSON
(``hub events --follow --json``: one JSON object per line). ``--lang`` (or ``LC_ALL``/``LANG``) picks
English or Chinese for messages and headings. Exit status: 0 done, 1 refused or unreachable, 2 bad
input.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .cli_render import (
    Texts,
    batch_table,
    case_table,
    cases_table,
    event_line,
    events_table,
    inquiry_tables,
    language,
    order_table,
)
from .client import ClientError, Conflict, HubClient, Inquiry
from .settings import get_settings

__all__ = ["register"]

console = Console()

Gateway = Annotated[str | None, typer.Option(help="gateway URL (default from HUB_GATEWAY_HOST/PORT)")]
Token = Annotated[str | None, typer.Option(help="the court's bearer token (default: HUB_COURT_TOKENS)")]
Court = Annotated[str | None, typer.Option(help="which court's token to use (default: the first)")]
Lang = Annotated[str | None, typer.Option("--lang", help="en or zh-CN (default: LC_ALL / LANG)")]
AsJson = Annotated[bool, typer.Option("--json", help="print the gateway's JSON")]
Officer = Annotated[str | None, typer.Option(help="officer id of the court (default: its first)")]
Purpose = Annotated[str, typer.Option(help="why the court asks (stated on every request)")]
LegalBasis = Annotated[str, typer.Option("--legal-basis", help="the document that authorises it")]


class _Session:
    """What every court command needs: the client, the court, its officer, the language."""

    def __init__(self, gateway: str | None, token: str | None, court: str | None, lang: str | None) -> None:
        self.t = Texts(language(lang))
        settings = get_settings()
        url = gateway or f"http://{settings.gateway_host}:{settings.gateway_port}"
        self.court, token = _court_token(court, token)
        self.client = HubClient(url, token, language=self.t.lang)
        officers = settings.officers_by_court.get(self.court) or {f"officer-{self.court}-1"}
        self.default_officer = sorted(officers)[0]

    def fail(self, error: Exception) -> typer.Exit:
        if isinstance(error, ValidationError):
            for e in error.errors():
                loc = ".".join(str(p) for p in e["loc"])
                console.print(f"[red]{self.t('invalid input')}:[/red] {loc}: {e['msg']}", soft_wrap=True)
            return typer.Exit(2)
        console.print(f"[red]{self.t('refused')}:[/red] {error}", soft_wrap=True)
        if isinstance(error, Conflict) and error.case_id:
            console.print(self.t("existing case: {case_id}", case_id=error.case_id))
        return typer.Exit(1)


def _court_token(court: str | None, token: str | None) -> tuple[str, str]:
    settings = get_settings()
    tokens = dict(settings.tokens_by_court)
    if not tokens:
        path = settings.state_dir / "credentials.json"
        if path.exists():
            pairs = json.loads(path.read_text()).get("court_tokens", "")
            tokens = dict(p.split(":", 1) for p in pairs.split(",") if ":" in p)
    if token is not None:
        return court or next(iter(tokens), "court-a"), token
    if not tokens:
        raise typer.BadParameter("no court token: give --token, set HUB_COURT_TOKENS or run `hub up` first")
    name = court or next(iter(tokens))
    if name not in tokens:
        raise typer.BadParameter(f"no token for court {name!r}; known: {', '.join(tokens)}")
    return name, tokens[name]


def _print_json(data: Any) -> None:
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json")
    print(json.dumps(data, ensure_ascii=False, indent=2))


# ---------------------------------------------------------------- hub case

case_app = typer.Typer(help="Enforcement cases: register, list, show.", no_args_is_help=True)


@case_app.command("register")
def case_register(
    number: Annotated[str, typer.Option("--number", help="case number, e.g. (2026)鄂0111执1234号")],
    applicant: Annotated[str, typer.Option(help="the applicant's name")],
    debtor: Annotated[
        list[str], typer.Option(help="a debtor as NAME,ID_TYPE,ID_NUMBER (repeat for several)")
    ],
    owed: Annotated[str, typer.Option(help="amount owed, yuan (decimal string)")],
    costs: Annotated[str | None, typer.Option(help="enforcement costs, yuan")] = None,
    idempotency_key: Annotated[str | None, typer.Option(help="Idempotency-Key header")] = None,
    gateway: Gateway = None,
    token: Token = None,
    court: Court = None,
    lang: Lang = None,
    as_json: AsJson = False,
) -> None:
    """Register an enforcement case; prints its case id."""
    s = _Session(gateway, token, court, lang)
    debtors = []
    for d in debtor:
        parts = [p.strip() for p in d.split(",")]
        if len(parts) != 3:
            console.print(f"[red]{s.t('invalid input')}:[/red] --debtor {d!r}: NAME,ID_TYPE,ID_NUMBER")
            raise typer.Exit(2)
        debtors.append({"name": parts[0], "id_type": parts[1], "id_number": parts[2]})
    body = {"case_number": number, "applicant": {"name": applicant}, "debtors": debtors, "amount_owed": owed}
    if costs is not None:
        body["costs"] = costs
    with s.client:
        try:
            case_id = s.client.register_case(body, idempotency_key=idempotency_key)
        except (ClientError, ValidationError) as e:
            raise s.fail(e) from None
    if as_json:
        _print_json({"case_id": case_id})
    else:
        console.print(s.t("case {case_id} registered", case_id=case_id))


@case_app.command("list")
def case_list(
    number: Annotated[str | None, typer.Option("--number", help="case number, exactly")] = None,
    status: Annotated[str | None, typer.Option(help="active or terminated")] = None,
    id_number: Annotated[str | None, typer.Option(help="a debtor's identifier, any accepted form")] = None,
    limit: Annotated[int, typer.Option(help="at most this many cases")] = 50,
    gateway: Gateway = None,
    token: Token = None,
    court: Court = None,
    lang: Lang = None,
    as_json: AsJson = False,
) -> None:
    """The court's cases, oldest first (following the cursor up to --limit)."""
    s = _Session(gateway, token, court, lang)
    with s.client:
        try:
            cases = []
            for c in s.client.iter_cases(case_number=number, status=status, id_number=id_number):
                cases.append(c)
                if len(cases) >= limit:
                    break
        except ClientError as e:
            raise s.fail(e) from None
    if as_json:
        _print_json([c.model_dump(mode="json") for c in cases])
    else:
        console.print(cases_table(cases, s.t))


@case_app.command("show")
def case_show(
    case_id: str,
    gateway: Gateway = None,
    token: Token = None,
    court: Court = None,
    lang: Lang = None,
    as_json: AsJson = False,
) -> None:
    """One case with its inquiries, assets found and controls."""
    s = _Session(gateway, token, court, lang)
    with s.client:
        try:
            case = s.client.get_case(case_id)
        except ClientError as e:
            raise s.fail(e) from None
    _print_json(case) if as_json else console.print(case_table(case, s.t))


# ---------------------------------------------------------------- hub inquire


def _read_batch(path: Path, t: Texts) -> list[dict[str, Any]]:
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as e:
            console.print(f"[red]{t('invalid input')}:[/red] {path}:{n}: {e.msg}")
            raise typer.Exit(2) from None
        items.append(item)
    return items


def inquire(
    purpose: Purpose,
    legal_basis: LegalBasis,
    case_id: Annotated[str | None, typer.Argument(help="the case (not with --batch)")] = None,
    id_type: Annotated[str | None, typer.Option(help="the debtor's identifier type")] = None,
    id_number: Annotated[str | None, typer.Option(help="the debtor's identifier")] = None,
    agency: Annotated[
        list[str] | None, typer.Option(help="ask only this agency (repeat); default all")
    ] = None,
    batch: Annotated[
        Path | None,
        typer.Option(help='JSON Lines: {"case_id", "debtor": {"id_type", "id_number"}, "agencies"?}'),
    ] = None,
    wait: Annotated[float, typer.Option(help="seconds to wait for the result (0: do not wait)")] = 60.0,
    officer: Officer = None,
    gateway: Gateway = None,
    token: Token = None,
    court: Court = None,
    lang: Lang = None,
    as_json: AsJson = False,
) -> None:
    """Ask the agencies what a debtor holds and print the linked result; with --batch, submit a file
    of inquiries as one batch, show its progress and then a summary table."""
    s = _Session(gateway, token, court, lang)
    asking = {"officer": officer or s.default_officer, "purpose": purpose, "legal_basis": legal_basis}
    with s.client:
        try:
            if batch is not None:
                _inquire_batch(s, _read_batch(batch, s.t), asking, wait, as_json)
                return
            if case_id is None or id_type is None or id_number is None:
                usage = s.t("give CASE_ID, --id-type and --id-number, or --batch")
                console.print(f"[red]{s.t('invalid input')}:[/red] {usage}")
                raise typer.Exit(2)
            body: dict[str, Any] = {
                "case_id": case_id,
                "debtor": {"id_type": id_type, "id_number": id_number},
                **asking,
            }
            if agency:
                body["agencies"] = agency
            accepted = s.client.submit_inquiry(body)
            if not as_json:
                console.print(s.t("inquiry {inquiry_id} accepted", inquiry_id=accepted.inquiry_id))
            result: Inquiry | None = None
            if wait > 0:
                result = s.client.wait_inquiry(accepted.inquiry_id, timeout=wait)
        except (ClientError, ValidationError) as e:
            raise s.fail(e) from None
    if as_json:
        _print_json(result if result is not None else accepted)
    elif result is not None:
        for table in inquiry_tables(result, s.t):
            console.print(table)
        if not result.settled:
            console.print(s.t("still pending after {seconds} s", seconds=f"{wait:g}"))


def _inquire_batch(
    s: _Session, items: list[dict[str, Any]], asking: dict[str, str], wait: float, as_json: bool
) -> None:
    accepted = s.client.submit_batch({"items": items, **asking})
    if not as_json:
        console.print(
            s.t(
                "batch {batch_id} accepted: {count} inquiries",
                batch_id=accepted.batch_id,
                count=len(accepted.inquiry_ids),
            )
        )
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=as_json,
    )
    with progress:
        task = progress.add_task(s.t("settled"), total=len(accepted.inquiry_ids))
        final = s.client.wait_batch(
            accepted.batch_id, timeout=wait, on_progress=lambda b: progress.update(task, completed=b.settled)
        )
    if as_json:
        _print_json(final)
        return
    console.print(batch_table(final, s.t))
    if final.status != "done":
        console.print(s.t("still running after {seconds} s", seconds=f"{wait:g}"))


# ---------------------------------------------------------------- hub order

order_app = typer.Typer(help="Control orders: issue one, show one.", no_args_is_help=True)


@order_app.command("issue")
def order_issue(
    case_id: str,
    asset_id: str,
    action: Annotated[str, typer.Argument(help="freeze, seize, deduct, renew or release")],
    approved_by: Annotated[str, typer.Option(help="the judge who approved it")],
    purpose: Purpose,
    legal_basis: LegalBasis,
    amount: Annotated[str | None, typer.Option(help="yuan (freeze, deduct)")] = None,
    period_days: Annotated[int | None, typer.Option(help="days (freeze, seize, renew)")] = None,
    wait: Annotated[float, typer.Option(help="seconds to wait for the agency's answer (0: do not)")] = 30.0,
    officer: Officer = None,
    idempotency_key: Annotated[str | None, typer.Option(help="Idempotency-Key header")] = None,
    gateway: Gateway = None,
    token: Token = None,
    court: Court = None,
    lang: Lang = None,
    as_json: AsJson = False,
) -> None:
    """Issue a control order and show its state once the agency answered (or --wait passed)."""
    s = _Session(gateway, token, court, lang)
    body: dict[str, Any] = {
        "case_id": case_id,
        "asset_id": asset_id,
        "action": action,
        "approved_by": approved_by,
        "officer": officer or s.default_officer,
        "purpose": purpose,
        "legal_basis": legal_basis,
    }
    if amount is not None:
        body["amount"] = amount
    if period_days is not None:
        body["period_days"] = period_days
    with s.client:
        try:
            order_id = s.client.issue_order(body, idempotency_key=idempotency_key)
            if not as_json:
                console.print(s.t("control order {order_id} accepted", order_id=order_id))
            order = s.client.wait_order(order_id, timeout=wait) if wait > 0 else None
        except (ClientError, ValidationError) as e:
            raise s.fail(e) from None
    if as_json:
        _print_json(order if order is not None else {"order_id": order_id})
    elif order is not None:
        console.print(order_table(order, s.t))


@order_app.command("show")
def order_show(
    order_id: str,
    gateway: Gateway = None,
    token: Token = None,
    court: Court = None,
    lang: Lang = None,
    as_json: AsJson = False,
) -> None:
    """A control order's state and history."""
    s = _Session(gateway, token, court, lang)
    with s.client:
        try:
            order = s.client.get_order(order_id)
        except ClientError as e:
            raise s.fail(e) from None
    _print_json(order) if as_json else console.print(order_table(order, s.t))


# ---------------------------------------------------------------- hub events


def events(
    after: Annotated[str | None, typer.Option(help="a cursor: only events recorded after it")] = None,
    follow: Annotated[bool, typer.Option("--follow", help="keep printing new events until Ctrl-C")] = False,
    interval: Annotated[float, typer.Option(help="seconds between polls with --follow")] = 1.0,
    limit: Annotated[int | None, typer.Option(help="stop after this many events")] = None,
    gateway: Gateway = None,
    token: Token = None,
    court: Court = None,
    lang: Lang = None,
    as_json: AsJson = False,
) -> None:
    """The court's event feed after a cursor: a table, or with --follow one line per event as it
    is recorded (--json: one JSON object per line)."""
    s = _Session(gateway, token, court, lang)
    seen, count, stream = [], 0, follow or as_json
    with s.client:
        try:
            for event in s.client.iter_events(after=after, follow=follow, interval=interval):
                count += 1
                if not stream:
                    seen.append(event)
                elif as_json:
                    print(json.dumps(event.model_dump(mode="json"), ensure_ascii=False), flush=True)
                else:
                    print(event_line(event), flush=True)
                if limit is not None and count >= limit:
                    break
        except KeyboardInterrupt:
            return
        except ClientError as e:
            raise s.fail(e) from None
    if not stream:
        console.print(events_table(seen, s.t))


# ---------------------------------------------------------------- hub asyncapi


def asyncapi(
    output: Annotated[Path | None, typer.Option(help="where to write (default docs/asyncapi.json)")] = None,
    check: Annotated[bool, typer.Option("--check", help="only check that the file is up to date")] = False,
) -> None:
    """Generate the AsyncAPI 3.0 document of the Kafka topics from the schemas."""
    from .asyncapi import DEFAULT_PATH, render

    path = output or DEFAULT_PATH
    text = render()
    if check:
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != text:
            console.print(f"[red]{path} is out of date:[/red] run `hub asyncapi`")
            raise typer.Exit(1)
        console.print(f"{path} is up to date")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    console.print(f"wrote {path} ({len(text.encode())} bytes)")


def register(app: typer.Typer) -> None:
    """Add the court commands and ``asyncapi`` to the ``hub`` command line."""
    app.add_typer(case_app, name="case")
    app.add_typer(order_app, name="order")
    app.command("inquire")(inquire)
    app.command("events")(events)
    app.command("asyncapi")(asyncapi)
