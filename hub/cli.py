"""``hub``: the command line of the enforcement hub."""

from __future__ import annotations

import asyncio
import json
import signal
import threading
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

from .errors import HubError
from .settings import get_settings

app = typer.Typer(help="Enforcement data-linkage hub.", no_args_is_help=True, add_completion=False)
console = Console()


@app.command()
def up(timeout: Annotated[float, typer.Option(help="seconds to wait for health")] = 120.0) -> None:
    """Start the whole hub (embedded broker unless HUB_KAFKA_BOOTSTRAP is set); Ctrl-C stops it all."""
    from .supervisor import Hub

    console.print("[bold]Starting the enforcement hub[/bold]")
    try:
        hub = Hub()
    except HubError as e:
        console.print(f"[red]error:[/red] {e}")
        raise typer.Exit(2) from None
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        hub.start(timeout=timeout, progress=True)
    except HubError as e:
        console.print(f"[red]error:[/red] {e}")
        raise typer.Exit(1) from None
    _print_endpoints(hub)

    def tell(name: str, message: str) -> None:
        colour = "red" if "crash-looping" in message else "yellow"
        console.print(f"[{colour}]{name} {message}[/{colour}] (status: {hub.status_path})")

    hub.on_event.append(tell)
    hub.start_watchdog()
    try:
        stop.wait()
    finally:
        console.print("stopping…")
        hub.stop()
        console.print("all processes stopped")


def _print_endpoints(hub: Any) -> None:
    s = hub.settings
    table = Table(title="Enforcement hub is up", show_lines=False)
    table.add_column("component")
    table.add_column("where")
    table.add_row("gateway (API, docs at /docs)", hub.gateway_url)
    table.add_row("Kafka bootstrap", s.bootstrap + ("" if s.kafka_bootstrap else " (embedded tansu)"))
    table.add_row("database", s.resolved_database_url)
    for agency in s.agencies:
        table.add_row(f"registry {agency}", s.registry_url(agency))
    table.add_row("connectors stats", f"{s.resolved_connectors_url}/stats")
    table.add_row("logs", str(hub.state_dir / "logs"))
    console.print(table)
    tokens = Table(title="Bearer tokens")
    tokens.add_column("role")
    tokens.add_column("token")
    for court, token in s.tokens_by_court.items():
        tokens.add_row(f"court {court}", token)
    if s.ops_token:
        tokens.add_row("ops", s.ops_token.get_secret_value())
    console.print(tokens)
    people = Table(title="Who may act for each court (HUB_COURT_JUDGES, HUB_COURT_OFFICERS)")
    people.add_column("court")
    people.add_column("judges (approve orders)")
    people.add_column("officers (submit inquiries and orders)")
    judges, officers = s.judges_by_court, s.officers_by_court
    for court in sorted({*s.tokens_by_court, *judges, *officers}):
        people.add_row(
            court, ", ".join(sorted(judges.get(court, ()))), ", ".join(sorted(officers.get(court, ())))
        )
    console.print(people)
    console.print("Try: [bold]hub demo[/bold]   ·   Ctrl-C stops every process")


def _credentials() -> tuple[str, str]:
    settings = get_settings()
    if settings.tokens_by_court:
        court, token = next(iter(settings.tokens_by_court.items()))
        return court, token
    path = settings.state_dir / "credentials.json"
    if not path.exists():
        raise typer.BadParameter(f"no tokens: set HUB_COURT_TOKENS or run `hub up` first ({path} missing)")
    court, token = json.loads(path.read_text())["court_tokens"].split(",")[0].split(":", 1)
    return court, token


@app.command()
def demo(
    gateway: Annotated[str | None, typer.Option(help="gateway URL (default from settings)")] = None,
    token: Annotated[
        str | None, typer.Option(help="a court's bearer token (default: the first court's)")
    ] = None,
    wait: Annotated[float, typer.Option(help="seconds to wait for the result")] = 60.0,
    officer: Annotated[
        str | None, typer.Option(help="officer id of the token's court (default: its first officer)")
    ] = None,
) -> None:
    """Run a short scenario against a running hub: register a case, inquire, print the result."""
    from .demo import run_demo

    settings = get_settings()
    url = gateway or f"http://{settings.gateway_host}:{settings.gateway_port}"
    court = "court-a"
    if token is None:
        court, token = _credentials()
    if officer is None:  # HUB_COURT_OFFICERS, else the officers `hub up` generates for a dev court
        officer = sorted(settings.officers_by_court.get(court, {f"officer-{court}-1"}))[0]
    try:
        run_demo(url, token, wait=wait, console=console, officer=officer)
    except (httpx.HTTPError, HubError) as e:
        console.print(f"[red]demo failed:[/red] {e}")
        raise typer.Exit(1) from None


@app.command()
def topics() -> None:
    """Create the hub's topics on HUB_KAFKA_BOOTSTRAP (production set-up step)."""
    from .kafka import create_topics

    created = asyncio.run(create_topics(get_settings(), align_existing=True))
    console.print(f"created: {', '.join(created) or 'none (all exist)'}")


def _ops_token() -> str:
    settings = get_settings()
    if settings.ops_token is not None:
        return settings.ops_token.get_secret_value()
    path = settings.state_dir / "credentials.json"
    if path.exists():
        token = json.loads(path.read_text()).get("ops_token")
        if token:
            return str(token)
    raise typer.BadParameter(f"no ops token: set HUB_OPS_TOKEN or run `hub up` first ({path} missing)")


def _lag_table(data: dict[str, Any], details: bool = False) -> Table:
    """The lag report as a table: one row per consumer group (summary: a terminal of about 25 lines
    holds the hub's groups), and with ``details`` each group's partitions under it."""
    colours = {
        "OK": "green",
        "WARNING": "yellow",
        "STALLED": "dark_orange",
        "STOPPED": "red",
        "ERROR": "magenta",
    }
    table = Table(
        title=f"Consumer lag (every {data['interval_seconds']} s, window {data['window']}, "
        f"STOPPED after {data['stop_seconds']} s)",
        caption=f"sampler error: {data['error']}"
        if data.get("error")
        else None
        if data.get("groups")
        else "no hub consumer group has committed an offset yet (no traffic since the hub started)",
    )
    if not details:
        for col, justify in [
            ("group", "left"),
            ("partitions", "right"),
            ("not OK", "right"),
            ("lag", "right"),
            ("lag s", "right"),
            ("status", "left"),
            ("reason", "left"),
        ]:
            table.add_column(col, justify=justify, no_wrap=col != "reason", overflow="ellipsis")  # type: ignore[arg-type]
        for g in data["groups"]:
            status = g["status"]
            worst = [p for p in g["partitions"] if p["status"] != "OK"]
            reason = g.get("error") or (
                f"{worst[0]['topic']}[{worst[0]['partition']}]: {worst[0]['reason']}" if worst else ""
            )
            table.add_row(
                g["group"],
                str(len(g["partitions"])),
                str(len(worst)),
                str(g["lag"]),
                f"{g['lag_seconds']:.1f}",
                f"[bold {colours.get(status, 'white')}]{status}[/]",
                reason,
            )
        return table
    for col, justify in [
        ("group", "left"),
        ("topic", "left"),
        ("partition", "right"),
        ("committed", "right"),
        ("end", "right"),
        ("lag", "right"),
        ("lag s", "right"),
        ("status", "left"),
        ("reason", "left"),
    ]:
        table.add_column(col, justify=justify, no_wrap=col != "reason", overflow="ellipsis")  # type: ignore[arg-type]
    for g in data["groups"]:
        status = g["status"]
        table.add_row(
            g["group"],
            "",
            "",
            "",
            "",
            str(g["lag"]),
            f"{g['lag_seconds']:.1f}",
            f"[bold {colours.get(status, 'white')}]{status}[/]",
            g.get("error") or "",
            style="bold",
        )
        for p in g["partitions"]:
            secs = "–" if p["lag_seconds"] is None else f"{p['lag_seconds']:.1f}"
            table.add_row(
                "",
                p["topic"],
                str(p["partition"]),
                str(p["committed"]) if p["committed"] is not None else f"– (start {p.get('position')})",
                str(p["end"]),
                str(p["lag"]),
                secs,
                f"[{colours.get(p['status'], 'white')}]{p['status']}[/]",
                p["reason"],
            )
    return table


@app.command()
def lag(
    gateway: Annotated[str | None, typer.Option(help="gateway URL (default from settings)")] = None,
    token: Annotated[
        str | None, typer.Option(help="ops token (default HUB_OPS_TOKEN or credentials.json)")
    ] = None,
    interval: Annotated[float, typer.Option(help="seconds between refreshes")] = 2.0,
    as_json: Annotated[
        bool, typer.Option("--json", help="print the JSON of /v1/ops/lag once and exit")
    ] = False,
    details: Annotated[
        bool, typer.Option("--details", help="every partition of every group, not only the summary")
    ] = False,
    once: Annotated[bool, typer.Option("--once", help="print the table once and exit")] = False,
) -> None:
    """Consumer lag: a line per group (partitions, how many are not OK, lag, lag in seconds, status and
    the first partition's reason), live until Ctrl-C; ``--details`` lists every partition."""
    from rich.live import Live

    settings = get_settings()
    url = (gateway or f"http://{settings.gateway_host}:{settings.gateway_port}").rstrip("/")
    headers = {"Authorization": f"Bearer {token or _ops_token()}"}

    def fetch(client: httpx.Client) -> dict[str, Any]:
        r = client.get(f"{url}/v1/ops/lag", headers=headers)
        if r.status_code == 401:
            raise HubError("the gateway refused the ops token (401)")
        r.raise_for_status()
        return r.json()

    with httpx.Client(timeout=5.0) as client:
        try:
            if as_json:
                print(json.dumps(fetch(client), indent=2, ensure_ascii=False))
                return
            if once:
                console.print(_lag_table(fetch(client), details))
                return
            with Live(_lag_table(fetch(client), details), console=console, refresh_per_second=4) as live:
                while True:
                    threading.Event().wait(interval)
                    live.update(_lag_table(fetch(client), details))
        except KeyboardInterrupt:
            return
        except (httpx.HTTPError, HubError) as e:
            console.print(f"[red]lag failed:[/red] {e}")
            raise typer.Exit(1) from None


@app.command()
def clock(
    days: Annotated[float | None, typer.Option(help="set the hub's clock this many days ahead")] = None,
    reset: Annotated[bool, typer.Option(help="back to real time")] = False,
) -> None:
    """Show or move the simulated time of a running hub (needs HUB_CLOCK_FILE, read by every process)."""
    from .clock import clock_from_settings, set_clock_offset

    settings = get_settings()
    if settings.clock_file is None:
        console.print("[red]HUB_CLOCK_FILE is not set:[/red] start the hub with it to simulate time")
        raise typer.Exit(2)
    if reset or days is not None:
        set_clock_offset(settings.clock_file, 0.0 if reset or days is None else days * 86400)
    console.print(f"hub time: {clock_from_settings(settings).now().isoformat()}")


audit_app = typer.Typer(help="The audit trail (hash-chained record of every step).", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def audit_verify(
    database: Annotated[
        str | None, typer.Option(help="database URL (default HUB_DATABASE_URL or the state dir's hub.db)")
    ] = None,
) -> None:
    """Recompute the audit chain; exit 0 when intact, 1 naming the first entry altered, removed or
    inserted, 2 when the database cannot be read."""
    import sqlalchemy as sa

    from gateway.audit import verify

    url = database or get_settings().resolved_database_url
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url.removeprefix(prefix)
    engine = sa.create_engine(url, hide_parameters=True)
    try:
        with engine.connect() as conn:
            checked, problem = verify(conn)
    except sa.exc.SQLAlchemyError as e:
        reason = str(getattr(e, "orig", None) or e)[:200]
        console.print(f"[red]cannot read the audit trail:[/red] {type(e).__name__}: {reason}", soft_wrap=True)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    if problem is not None:
        where = f"entry {problem.seq} ({problem.what})"
        console.print(f"[red]audit chain broken at {where}:[/red] {problem.message}", soft_wrap=True)
        raise typer.Exit(1)
    console.print(f"audit chain intact: {checked} entries verified", soft_wrap=True)


# the court commands (case, inquire, order, events, on hub.client) and asyncapi
from .cli_client import register as _register_client_commands  # noqa: E402

_register_client_commands(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
