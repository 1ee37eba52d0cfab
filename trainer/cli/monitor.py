"""`python -m trainer monitor create|add|show|alerts|rescore|set|list|delete|export|move`: streams of new
text.

`monitor add NAME FILE...` is what cron or a scheduler runs: a folder adds the files it has not added
before; the same rows sent twice are counted once.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from trainer.cli.common import EXIT_OK, CliError, runs_dir
from trainer.i18n import N_, tr, trn
from trainer.runs.variants import VARIANTS

BUCKETS = {"day": N_("daily buckets"), "week": N_("weekly buckets"), "month": N_("monthly buckets")}
# One alert, by its direction ("up" or "down", a value code compares); with and without a bucket still filling.
ALERTS = {
    ("up", False): N_("{label} up in {group}, {bucket}: {share} of {n} against {baseline} before (p = {p})"),
    ("down", False): N_(
        "{label} down in {group}, {bucket}: {share} of {n} against {baseline} before (p = {p})"
    ),
    ("up", True): N_(
        "{label} up in {group}, {bucket}: {share} of {n} against {baseline} before (p = {p}) "
        "(bucket still filling)"
    ),
    ("down", True): N_(
        "{label} down in {group}, {bucket}: {share} of {n} against {baseline} before (p = {p}) "
        "(bucket still filling)"
    ),
}


def add_parser(sub: argparse._SubParsersAction) -> None:
    command = sub.add_parser(
        "monitor", help=tr("streams of new text scored by a run, with trends and alerts")
    )
    actions = command.add_subparsers(dest="action", metavar="ACTION")
    create = actions.add_parser("create", help=tr("a new monitor tied to a finished run"))
    create.add_argument("name")
    create.add_argument("--run", required=True, help=tr("run id, name or folder"))
    create.add_argument("--text-column", required=True)
    create.add_argument("--time-column", required=True)
    create.add_argument("--group-column")
    create.add_argument(
        "--id-column", help=tr("a column that identifies a row (else: its time, group and text)")
    )
    create.add_argument("--bucket", choices=("day", "week", "month"), default="week")
    create.add_argument("--variant", choices=VARIANTS,
                        help=tr("score with this accepted compressed variant of the run (see `compress`)"))  # fmt: skip
    create.add_argument("--webhook", help=tr("POST each new alert as JSON to this URL"))
    create.add_argument(
        "--keep-days", type=int, help=tr("drop texts older than this many days (counts stay)")
    )
    change = actions.add_parser("set", help=tr("change a monitor's webhook or retention"))
    change.add_argument("name")
    change.add_argument("--webhook", help=tr('POST new alerts to this URL ("" for none)'))
    change.add_argument(
        "--keep-days", type=int, help=tr("drop texts older than this many days (0: keep all)")
    )
    rescore = actions.add_parser(
        "rescore", help=tr("score the stored texts with another run, beside the current")
    )
    rescore.add_argument("name")
    rescore.add_argument("--run", required=True, help=tr("run id, name or folder"))
    rescore.add_argument("--switch", action="store_true", help=tr("then make that run the monitor's run"))
    add = actions.add_parser("add", help=tr("add files (or every new file of a folder) as batches"))
    add.add_argument("name")
    add.add_argument("files", nargs="+")
    show = actions.add_parser("show", help=tr("rows, buckets, label shares and alerts"))
    show.add_argument("name")
    show.add_argument("--json", action="store_true")
    alerts = actions.add_parser("alerts", help=tr("the monitor's alerts"))
    alerts.add_argument("name")
    alerts.add_argument(
        "--new", action="store_true", help=tr("only alerts nobody has seen yet (then marks them seen)")
    )
    alerts.add_argument("--json", action="store_true")
    export = actions.add_parser("export", help=tr("every stored row as CSV"))
    export.add_argument("name")
    export.add_argument("--out", required=True)
    listing = actions.add_parser("list", help=tr("every monitor"))
    remove = actions.add_parser("delete", help=tr("delete a monitor and its rows"))
    remove.add_argument("name")
    move = actions.add_parser(
        "move",
        help=tr("copy a monitor from its DuckDB file to the PostgreSQL server INSIGHT_DATABASE_URL names"),
    )
    move.add_argument("name")
    for parser in (command, create, change, rescore, add, show, alerts, export, listing, remove, move):
        parser.add_argument("--runs-dir", default=argparse.SUPPRESS if parser is not command else None)

    command.set_defaults(handler=run)


def _files(given: list[str], seen: set[str]) -> list[Path]:
    from trainer.monitor.rows import fingerprint

    found = []
    for name in given:
        path = Path(name)
        if path.is_dir():
            children = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
            found += [child for child in children if fingerprint(child) not in seen]
        elif path.is_file():
            found.append(path)
        else:
            raise CliError(tr('File not found: "{path}".', path=path))
    return found


def run(args: argparse.Namespace) -> int:
    from trainer.monitor import monitor as monitors

    folder = runs_dir(getattr(args, "runs_dir", None))
    try:
        return _run(args, folder, monitors)
    except monitors.MonitorError as exc:
        raise CliError(str(exc)) from None


def _run(args: argparse.Namespace, folder: Path, monitors) -> int:
    action = ACTIONS.get(args.action)
    if action is None:
        raise CliError(tr("say what to do: monitor create, add, show, alerts, export, list, delete or move"))
    action(args, folder, monitors)
    return EXIT_OK


def _finished_run(given: str, folder: Path, refusal: str) -> Path:
    """The run `given` names, refused (with `refusal`, given {run}) unless it has a model."""
    from trainer.runs import find_run, load_run

    run_dir = find_run(given, folder, anywhere=True)
    if not load_run(run_dir).has_model:
        raise CliError(tr(refusal, run=run_dir.name))
    return run_dir


def _create(args: argparse.Namespace, folder: Path, monitors) -> None:
    from trainer.access.people import local_owner

    run_dir = _finished_run(args.run, folder, N_("{run} has no model yet: a monitor needs a finished run."))
    if args.webhook:  # refused before the monitor exists, not after
        _check_webhook(args.webhook)
    if args.variant:
        from trainer.runs import RunFolder
        from trainer.runs.variants import UnknownVariant, Variants

        try:
            Variants(RunFolder(run_dir)).check(args.variant)
        except UnknownVariant as exc:
            raise CliError(str(exc)) from None
    monitor = monitors.create(folder, monitors.Settings(
        args.name, str(run_dir.resolve()), args.text_column, args.time_column, args.group_column,
        args.id_column, args.bucket, local_owner(), variant=args.variant))  # fmt: skip
    if args.webhook:
        monitor.set_webhook(args.webhook)
    if args.keep_days is not None:
        monitor.set_retention(args.keep_days)
    buckets = tr(BUCKETS[args.bucket]) if args.bucket in BUCKETS else args.bucket
    print(
        tr("created monitor {name} (run {run}, {buckets})", name=args.name, run=run_dir.name, buckets=buckets)
    )


def _set(args: argparse.Namespace, folder: Path, monitors) -> None:
    monitor = monitors.Monitor(folder, args.name)
    if args.webhook is not None:
        monitor.set_webhook(args.webhook)
    if args.keep_days is not None:
        monitor.set_retention(args.keep_days or None)
    kept = monitor.settings.keep_days
    webhook = monitor.settings.webhook or tr("none")
    if kept:
        print(
            tr(
                "{name}: webhook {webhook}, texts kept {days} days",
                name=args.name,
                webhook=webhook,
                days=kept,
            )
        )
    else:
        print(tr("{name}: webhook {webhook}, texts kept for ever", name=args.name, webhook=webhook))


def _rescore(args: argparse.Namespace, folder: Path, monitors) -> None:
    from trainer.monitor import reading

    monitor = monitors.Monitor(folder, args.name)
    run_dir = _finished_run(args.run, folder, N_("{run} has no model yet: rescoring needs a finished run."))
    count = monitor.rescore(run_dir.resolve())
    print(tr("rescored {n} texts with {run}", n=f"{count:,}", run=run_dir.name))
    _print_side_by_side(reading.side_by_side(monitor))
    if args.switch:
        raised = monitor.switch()
        print(tr("{name} now uses {run}; {n} alerts over its history under it", name=args.name,
                 run=run_dir.name, n=raised))  # fmt: skip


def _add(args: argparse.Namespace, folder: Path, monitors) -> None:
    monitor = monitors.Monitor(folder, args.name)
    files = _files(args.files, monitor.seen_fingerprints())
    if not files:
        print(tr("nothing new to add"))
    for path in files:
        batch = monitor.add(path)
        print(tr("{file}: {read} rows read, {added} added, {duplicates} already there, {alerts} new alerts",
                 file=path.name, read=f"{batch.rows_read:,}", added=f"{batch.added:,}",
                 duplicates=f"{batch.duplicates:,}", alerts=len(batch.new_alerts)))  # fmt: skip
        for line in _refused(batch):
            print("  " + line)
        for alert in batch.new_alerts:
            print("  " + tr("alert: {alert}", alert=_said(alert)))
        if batch.webhook_error:
            print(f"  {batch.webhook_error}")


def _show(args: argparse.Namespace, folder: Path, monitors) -> None:
    monitor = monitors.Monitor(folder, args.name)
    counts = monitor.counts()
    summary = {"name": args.name, "rows": monitor.row_count(), "batches": monitor.batches(),
               "buckets": sorted({str(b.date()) for b in counts["bucket"]}),
               "shares": _shares(counts), "alerts": monitor.alerts()}  # fmt: skip
    if args.json:
        print(json.dumps(summary, indent=2, default=str))
        return
    print(tr("{name}: {rows} rows in {batches} batches, {buckets} buckets, {alerts} alerts",
             name=args.name, rows=f"{summary['rows']:,}", batches=len(summary["batches"]),
             buckets=len(summary["buckets"]), alerts=len(summary["alerts"])))  # fmt: skip
    for alert in summary["alerts"]:
        print("  " + _said_new(alert))


def _alerts(args: argparse.Namespace, folder: Path, monitors) -> None:
    monitor = monitors.Monitor(folder, args.name)
    found = monitor.alerts(new_only=args.new)
    if args.new:
        monitor.mark_seen()
    if args.json:
        print(json.dumps(found, indent=2, default=str))
        return
    for alert in found:
        print(_said_new(alert))
    if not found:
        print(tr("no new alerts") if args.new else tr("no alerts"))


def _export(args: argparse.Namespace, folder: Path, monitors) -> None:
    count = monitors.Monitor(folder, args.name).export(Path(args.out))
    print(tr("wrote {n} rows to {path}", n=f"{count:,}", path=args.out))


def _list(args: argparse.Namespace, folder: Path, monitors) -> None:
    found = monitors.names(folder)
    for name in found:
        monitor = monitors.Monitor(folder, name)
        rows, new = f"{monitor.row_count():,}", len(monitor.alerts(new_only=True))
        print(tr("{name}  {rows} rows  {alerts} new alerts", name=name, rows=rows, alerts=new))
    if not found:
        print(tr("no monitors in {folder}/", folder=folder))


def _delete(args: argparse.Namespace, folder: Path, monitors) -> None:
    monitors.delete(folder, args.name)
    print(tr("deleted monitor {name}", name=args.name))


def _move(args: argparse.Namespace, folder: Path, monitors) -> None:
    copied = monitors.move_to_server(folder, args.name)
    print(tr("moved monitor {name} to the PostgreSQL server: {rows} rows, {batches} batches, {alerts} alerts. "
             "Its DuckDB file is kept; delete it when you no longer need it.", name=args.name,
             rows=f"{copied['scored']:,}", batches=f"{copied['batches']:,}", alerts=f"{copied['alerts']:,}"))  # fmt: skip


ACTIONS = {"create": _create, "set": _set, "rescore": _rescore, "add": _add, "show": _show, "alerts": _alerts,
           "export": _export, "list": _list, "delete": _delete, "move": _move}  # fmt: skip


def _check_webhook(url: str) -> None:
    from trainer.monitor import notify

    if why := notify.refusal(url):
        raise CliError(why)


def _refused(batch) -> list[str]:
    """The rows a batch refused for their date, each kind on its own line (none when there were none)."""
    lines = []
    if batch.future:
        lines.append(trn("{n} row dated in the future (more than a day from now) refused",
                         "{n} rows dated in the future (more than a day from now) refused", batch.future,
                         n=f"{batch.future:,}"))  # fmt: skip
    if batch.undated:
        lines.append(trn("{n} row with no readable date refused", "{n} rows with no readable date refused",
                         batch.undated, n=f"{batch.undated:,}"))  # fmt: skip
    return lines


def _print_side_by_side(table) -> None:
    if table.empty or table["group"].nunique() < 2:
        return
    wide = table.pivot_table(index="bucket", columns=["label", "group"], values="share", fill_value=0.0)
    print(tr("share of each label per bucket, current run | rescored run:"))
    for bucket, row in wide.iterrows():
        cells = [f"{label} {row.get((label, 'current'), 0):.0%} | {row.get((label, 'rescored'), 0):.0%}"
                 for label in sorted({lab for lab, _ in wide.columns})]  # fmt: skip
        print(f"  {bucket.date()}: " + "; ".join(cells))


def _said(alert: dict) -> str:
    template = ALERTS["up" if alert["direction"] == "up" else "down", bool(alert.get("partial"))]
    return tr(template, label=alert["label"], group=alert["group"] or tr("all groups"), bucket=alert["bucket_start"],
              share=f"{alert['share']:.0%}", n=alert["n"], baseline=f"{alert['baseline_share']:.0%}",
              p=f"{alert['p_value']:.2g}")  # fmt: skip


def _said_new(alert: dict) -> str:
    """An alert, marked NEW when nobody has seen it yet."""
    return tr("NEW {alert}", alert=_said(alert)) if alert["new"] else _said(alert)


def _shares(counts) -> list[dict]:
    from trainer.evaluate.trends import shares

    if counts.empty:
        return []
    table = shares(counts)
    return [{"bucket": str(r.bucket.date()), "group": r.group, "label": r.label, "n": int(r.n),
             "share": round(float(r.share), 4)} for r in table.itertuples()]  # fmt: skip
