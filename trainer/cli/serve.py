"""`python -m trainer serve RUN`: the run behind an HTTP API (FastAPI on uvicorn; OpenAPI docs at /docs)."""

from __future__ import annotations

import argparse
import sys

from trainer.cli.common import EXIT_OK, CliError, runs_dir
from trainer.i18n import tr
from trainer.runs.variants import VARIANTS

LOCAL = ("127.0.0.1", "localhost", "::1")


def add_parser(sub: argparse._SubParsersAction) -> None:
    serve = sub.add_parser(
        "serve", help=tr("serve a run over HTTP (predict, explain, health, info, metrics)")
    )
    serve.add_argument("run", help=tr("run folder (or run id under --runs-dir)"))
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help=tr("processes, each with its own model"))
    serve.add_argument("--monitor", help=tr("store every served text in this monitor"))
    serve.add_argument("--max-batch", type=int, default=32, help=tr("texts per forward pass"))
    serve.add_argument(
        "--max-wait-ms", type=float, default=5.0, help=tr("how long a pass waits for more texts")
    )
    serve.add_argument(
        "--rate-limit",
        type=int,
        default=0,
        help=tr("requests per minute per token, all workers together (0: none)"),
    )
    serve.add_argument("--variant", choices=VARIANTS,
                       help=tr("serve this accepted compressed variant of the run (see `compress`)"))  # fmt: skip
    serve.add_argument("--no-tokens", action="store_true", help=tr("no token needed (only on 127.0.0.1)"))
    cluster = serve.add_argument_group(tr("on a Ray cluster (Ray Serve)"))
    cluster.add_argument(
        "--ray", nargs="?", const="", metavar="ADDRESS",
        help=tr("serve on the Ray cluster at ADDRESS (default: INSIGHT_RAY_ADDRESS) with autoscaling replicas"),
    )  # fmt: skip
    cluster.add_argument("--min-replicas", type=int, default=1)
    cluster.add_argument("--max-replicas", type=int, default=2)
    cluster.add_argument(
        "--target-ongoing-requests", type=float, default=2.0,
        help=tr("requests waiting per replica above which replicas are added"),
    )  # fmt: skip
    cluster.add_argument(
        "--upscale-delay", type=float, default=5.0, help=tr("seconds of load before a replica is added")
    )
    cluster.add_argument(
        "--downscale-delay", type=float, default=60.0, help=tr("seconds idle before a replica is removed")
    )
    serve.add_argument("--runs-dir", default=None)
    serve.set_defaults(handler=run)


def _gpus() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from trainer.access import tokens
    from trainer.runs import find_run, load_run
    from trainer.serve.settings import ServeConfig

    if args.no_tokens and args.host not in LOCAL:
        raise CliError(tr("Serving without tokens is only for 127.0.0.1, not {host}: create a token with "
                          "`python -m trainer tokens create NAME` and drop --no-tokens.", host=args.host))  # fmt: skip
    folder = runs_dir(args.runs_dir)
    run_dir = find_run(args.run, folder, anywhere=True)
    if not load_run(run_dir).has_model:
        raise CliError(tr("{run} has no model yet: serve a finished run.", run=run_dir.name))
    if args.monitor:
        from trainer.monitor import monitor as monitors

        try:
            monitors.Monitor(folder, args.monitor)
        except monitors.MonitorError as exc:
            raise CliError(str(exc)) from None
    if args.no_tokens:
        print(tr("serving WITHOUT tokens: anyone on this machine can call it"), file=sys.stderr)
    elif not (live := [t for t in tokens.listed(folder) if not t.revoked]):
        print(tr("no tokens yet: every request will be refused until `python -m trainer tokens create NAME`"),
              file=sys.stderr)  # fmt: skip
    elif not any(tokens.may_serve(folder, t, run_dir) for t in live):
        from trainer.access.owners import access_of

        print(tr("no token acts for someone who may see {run}: every request will be refused (403) until "
                 "`python -m trainer tokens create NAME --person {owner}` or the run is shared",
                 run=run_dir.name, owner=access_of(run_dir).owner), file=sys.stderr)  # fmt: skip
    if args.ray is not None:
        return _on_ray(
            args, ServeConfig.from_cli(args, run=str(run_dir.resolve()), runs_dir=str(folder)), run_dir
        )
    config = ServeConfig.from_cli(args, run=str(run_dir.resolve()), runs_dir=str(folder),
                                  gpus=_gpus() if args.workers > 1 else 0)  # fmt: skip
    config.to_env()  # read by each worker process uvicorn starts (trainer.serve.workers)
    url = f"http://{args.host}:{args.port}"
    print(tr("serving {run} on {url} (docs: /docs)", run=run_dir.name, url=url), file=sys.stderr, flush=True)
    uvicorn.run("trainer.serve.workers:from_env", factory=True, host=args.host, port=args.port, workers=args.workers,
                timeout_graceful_shutdown=30, log_level="warning")  # fmt: skip
    return EXIT_OK


def _on_ray(args: argparse.Namespace, config, run_dir) -> int:
    """The service as a Ray Serve application on a cluster, until Ctrl-C or SIGTERM."""
    from trainer.runs import cluster

    where = cluster.address(args.ray)
    if not where:
        raise CliError(tr("say which Ray cluster: --ray ADDRESS, or set INSIGHT_RAY_ADDRESS"))
    if not 1 <= args.min_replicas <= args.max_replicas or args.target_ongoing_requests <= 0:
        raise CliError(tr("the replicas must be 1 <= --min-replicas <= --max-replicas, and "
                          "--target-ongoing-requests above 0"))  # fmt: skip
    from trainer.serve.on_ray import Scaling, serve_until_stopped

    scaling = Scaling(args.min_replicas, args.max_replicas, args.target_ongoing_requests, args.upscale_delay,
                      args.downscale_delay)  # fmt: skip

    def ready(url: str) -> None:
        print(tr("serving {run} on {url} on the Ray cluster at {address}: {low} to {high} replicas (docs: /docs)",
                 run=run_dir.name, url=url, address=where, low=scaling.min_replicas, high=scaling.max_replicas),
              file=sys.stderr, flush=True)  # fmt: skip

    serve_until_stopped(config, where, scaling, args.host, args.port, ready)
    return EXIT_OK
