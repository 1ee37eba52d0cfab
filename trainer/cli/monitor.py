"""`python -m trainer monitor create|add|show|alerts|rescore|set|list|delete|export`: streams of new text.

`monitor add NAME FILE...` is what cron or a scheduler runs: a folder adds the files it has not added
before; the same rows sent twice are counted once.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from trainer.cli.common import EXIT_OK, CliError, runs_dir


def add_parser(sub: argparse._SubParsersAction) -> None:
    command = sub.add_parser("monitor", help="streams of new text scored by a run, with trends and alerts")
    actions = command.add_subparsers(dest="action", metavar="ACTION")
    create = actions.add_parser("create", help="a new monitor tied to a finished run")
    create.add_argument("name")
    create.add_argument("--run", required=True, help="run id, name or folder")
    create.add_argument("--text-column", required=True)
    create.add_argument("--time-column", required=True)
    create.add_argument("--group-column")
    create.add_argument("--id-column", help="a column that identifies a row (else: its time, group and text)")
    create.add_argument("--bucket", choices=("day", "week", "month"), default="week")
    create.add_argument("--webhook", help="POST each new alert as JSON to this URL")
    create.add_argument("--keep-days", type=int, help="drop texts older than this many days (counts stay)")
    change = actions.add_parser("set", help="change a monitor's webhook or retention")
    change.add_argument("name")
    change.add_argument("--webhook", help='POST new alerts to this URL ("" for none)')
    change.add_argument("--keep-days", type=int, help="drop texts older than this many days (0: keep all)")
    rescore = actions.add_parser(
        "rescore", help="score the stored texts with another run, beside the current"
    )
    rescore.add_argument("name")
    rescore.add_argument("--run", required=True, help="run id, name or folder")
    rescore.add_argument("--switch", action="store_true", help="then make that run the monitor's run")
    add = actions.add_parser("add", help="add files (or every new file of a folder) as batches")
    add.add_argument("name")
    add.add_argument("files", nargs="+")
    show = actions.add_parser("show", help="rows, buckets, label shares and alerts")
    show.add_argument("name")
    show.add_argument("--json", action="store_true")
    alerts = actions.add_parser("alerts", help="the monitor's alerts")
    alerts.add_argument("name")
    alerts.add_argument(
        "--new", action="store_true", help="only alerts nobody has seen yet (then marks them seen)"
    )
    alerts.add_argument("--json", action="store_true")
    export = actions.add_parser("export", help="every stored row as CSV")
    export.add_argument("name")
    export.add_argument("--out", required=True)
    listing = actions.add_parser("list", help="every monitor")
    remove = actions.add_parser("delete", help="delete a monitor and its rows")
    remove.add_argument("name")
    for parser in (command, create, change, rescore, add, show, alerts, export, listing, remove):
        parser.add_argument("--runs-dir", default=argparse.SUPPRESS if parser is not command else None)

    command.set_defaults(handler=run)


def _files(given: list[str], seen: set[str]) -> list[Path]:
    from trainer.monitor.monitor import fingerprint

    found = []
    for name in given:
        path = Path(name)
        if path.is_dir():
            children = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
            found += [child for child in children if fingerprint(child) not in seen]
        elif path.is_file():
            found.append(path)
        else:
            raise CliError(f'File not found: "{path}".')
    return found


def run(args: argparse.Namespace) -> int:
    from trainer.monitor import monitor as monitors

    folder = runs_dir(getattr(args, "runs_dir", None))
    try:
        return _run(args, folder, monitors)
    except monitors.MonitorError as exc:
        raise CliError(str(exc)) from None


def _run(args: argparse.Namespace, folder: Path, monitors) -> int:
    if args.action == "create":
        from trainer.access.people import local_owner
        from trainer.runs import find_run, load_run

        run_dir = find_run(args.run, folder, anywhere=True)
        if not load_run(run_dir).has_model:
            raise CliError(f"{run_dir.name} has no model yet: a monitor needs a finished run.")
        monitor = monitors.create(folder, monitors.Settings(
            args.name, str(run_dir.resolve()), args.text_column, args.time_column, args.group_column,
            args.id_column, args.bucket, local_owner()))  # fmt: skip
        if args.webhook:
            monitor.set_webhook(args.webhook)
        if args.keep_days is not None:
            monitor.set_retention(args.keep_days)
        print(f"created monitor {args.name} (run {run_dir.name}, {args.bucket}ly buckets)")
    elif args.action == "set":
        monitor = monitors.Monitor(folder, args.name)
        if args.webhook is not None:
            monitor.set_webhook(args.webhook)
        if args.keep_days is not None:
            monitor.set_retention(args.keep_days or None)
        kept = monitor.settings.keep_days
        print(f"{args.name}: webhook {monitor.settings.webhook or 'none'}, texts kept "
              f"{f'{kept} days' if kept else 'for ever'}")  # fmt: skip
    elif args.action == "rescore":
        from trainer.monitor import views
        from trainer.runs import find_run, load_run

        monitor = monitors.Monitor(folder, args.name)
        run_dir = find_run(args.run, folder, anywhere=True)
        if not load_run(run_dir).has_model:
            raise CliError(f"{run_dir.name} has no model yet: rescoring needs a finished run.")
        count = monitor.rescore(run_dir.resolve())
        print(f"rescored {count:,} texts with {run_dir.name}")
        _print_side_by_side(views.side_by_side(monitor))
        if args.switch:
            raised = monitor.switch()
            print(f"{args.name} now uses {run_dir.name}; {raised} alerts over its history under it")
    elif args.action == "add":
        monitor = monitors.Monitor(folder, args.name)
        files = _files(args.files, monitor.seen_fingerprints())
        if not files:
            print("nothing new to add")
        for path in files:
            batch = monitor.add(path)
            print(f"{path.name}: {batch.rows_read:,} rows read, {batch.added:,} added, "
                  f"{batch.duplicates:,} already there, {len(batch.new_alerts)} new alerts")  # fmt: skip
            for alert in batch.new_alerts:
                print(f"  alert: {_said(alert)}")
            if batch.webhook_error:
                print(f"  {batch.webhook_error}")
    elif args.action == "show":
        monitor = monitors.Monitor(folder, args.name)
        counts = monitor.counts()
        summary = {"name": args.name, "rows": monitor.row_count(), "batches": monitor.batches(),
                   "buckets": sorted({str(b.date()) for b in counts["bucket"]}),
                   "shares": _shares(counts), "alerts": monitor.alerts()}  # fmt: skip
        if args.json:
            print(json.dumps(summary, indent=2, default=str))
        else:
            print(f"{args.name}: {summary['rows']:,} rows in {len(summary['batches'])} batches, "
                  f"{len(summary['buckets'])} buckets, {len(summary['alerts'])} alerts")  # fmt: skip
            for alert in summary["alerts"]:
                print(f"  {'NEW ' if alert['new'] else ''}{_said(alert)}")
    elif args.action == "alerts":
        monitor = monitors.Monitor(folder, args.name)
        found = monitor.alerts(new_only=args.new)
        if args.new:
            monitor.mark_seen()
        if args.json:
            print(json.dumps(found, indent=2, default=str))
        else:
            for alert in found:
                print(f"{'NEW ' if alert['new'] else ''}{_said(alert)}")
            if not found:
                print("no new alerts" if args.new else "no alerts")
    elif args.action == "export":
        count = monitors.Monitor(folder, args.name).export(Path(args.out))
        print(f"wrote {count:,} rows to {args.out}")
    elif args.action == "list":
        found = monitors.names(folder)
        for name in found:
            monitor = monitors.Monitor(folder, name)
            print(f"{name}  {monitor.row_count():,} rows  {len(monitor.alerts(new_only=True))} new alerts")
        if not found:
            print(f"no monitors in {folder}/")
    elif args.action == "delete":
        monitors.delete(folder, args.name)
        print(f"deleted monitor {args.name}")
    else:
        raise CliError("say what to do: monitor create, add, show, alerts, export, list or delete")
    return EXIT_OK


def _print_side_by_side(table) -> None:
    if table.empty or table["group"].nunique() < 2:
        return
    wide = table.pivot_table(index="bucket", columns=["label", "group"], values="share", fill_value=0.0)
    print("share of each label per bucket, current run | rescored run:")
    for bucket, row in wide.iterrows():
        cells = [f"{label} {row.get((label, 'current'), 0):.0%} | {row.get((label, 'rescored'), 0):.0%}"
                 for label in sorted({lab for lab, _ in wide.columns})]  # fmt: skip
        print(f"  {bucket.date()}: " + "; ".join(cells))


def _said(alert: dict) -> str:
    where = alert["group"] or "all groups"
    partial = " (bucket still filling)" if alert.get("partial") else ""
    return (f"{alert['label']} {alert['direction']} in {where}, {alert['bucket_start']}: {alert['share']:.0%} of "
            f"{alert['n']} against {alert['baseline_share']:.0%} before (p = {alert['p_value']:.2g}){partial}")  # fmt: skip


def _shares(counts) -> list[dict]:
    from trainer.apply.trends import shares

    if counts.empty:
        return []
    table = shares(counts)
    return [{"bucket": str(r.bucket.date()), "group": r.group, "label": r.label, "n": int(r.n),
             "share": round(float(r.share), 4)} for r in table.itertuples()]  # fmt: skip
