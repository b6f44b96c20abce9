"""``nas-studio inspect``: parameters, MACs and a per-stage/per-cell cost table."""

from __future__ import annotations

import argparse
import json
from typing import Any

MACS_LINE = "MACs are counted the torchvision way: conv + linear multiply-adds."


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "inspect", help="show a design's parameters, MACs and per-stage cost",
        description="Show the cost of a design: parameters, MACs (conv + linear multiply-adds, "
        "the torchvision way), a per-stage/per-cell table and a memory estimate. SOURCE is a "
        "preset name, a design file, a DARTS Genotype(...) literal or a NAS-Bench-201 cell "
        "string.")
    p.add_argument("source", metavar="SOURCE",
                   help="preset name, design file, Genotype(...) text or NAS-Bench-201 string")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--input", metavar="CxHxW", help="input shape, e.g. 3x32x32")
    p.add_argument("--classes", type=int, metavar="N", help="number of classes")
    p.add_argument("--layers", type=int, metavar="L",
                   help="cells (DARTS: total; NAS-Bench-201: per stage)")
    p.add_argument("--channels", type=int, metavar="C", help="initial cell channels")
    p.add_argument("--auxiliary", action="store_true", default=None,
                   help="add the DARTS auxiliary head (its parameters are listed separately)")
    p.add_argument("--batch", type=int, default=1, metavar="B",
                   help="batch size for the memory and latency figures (default 1)")
    p.add_argument("--latency", action="store_true",
                   help="also build the network and time it on --device")
    p.add_argument("--device", default=None,
                   help="device for --latency: auto (default), cpu, cuda, cuda:N, mps")
    p.set_defaults(func=run)


def _si(value: float) -> str:
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= div:
            return f"{value / div:.2f}{suffix}"
    return f"{value:.0f}"


def _mb(n_bytes: float) -> str:
    return f"{n_bytes / 2**20:.1f} MiB"


def _shape(dims: list[int]) -> str:
    return "x".join(str(d) for d in dims) if dims else "-"


def format_summary(s: dict[str, Any]) -> str:
    """The human-readable report for a ``engine.cost.summarize`` result."""
    kind = "block stack" if s["kind"] == "stack" else f"cell network ({s.get('style')} macro)"
    lines = [f"{s['name']}: {kind}, input {_shape(s['input'])}, {s['classes']} classes",
             f"params {s['params']:,} ({_si(s['params'])})   MACs {s['macs']:,} "
             f"({_si(s['macs'])})"]
    if "params_with_auxiliary" in s:
        lines.append(f"params with the auxiliary head (training only): "
                     f"{s['params_with_auxiliary']:,}")
    lines += [f"note: {n}" for n in s.get("notes", [])]
    lines += [MACS_LINE, ""]
    rows = s.get("table") or []
    if rows:
        head = ("part", "params", "MACs", "output")
        body = [(str(r["name"]), f"{r['params']:,}", f"{r['macs']:,}", _shape(r["output"]))
                for r in rows]
        body.append(("total", f"{s['params']:,}", f"{s['macs']:,}", ""))
        widths = [max(len(row[i]) for row in [head, *body]) for i in range(4)]

        def fmt(row: tuple[str, ...]) -> str:
            return "  ".join([row[0].ljust(widths[0]), row[1].rjust(widths[1]),
                              row[2].rjust(widths[2]), row[3]]).rstrip()

        lines.append(fmt(head))
        lines += [fmt(r) for r in body[:-1]]
        lines += ["-" * len(fmt(head)), fmt(body[-1])]
        if any(str(r["name"]).startswith("auxiliary") for r in rows):
            lines.append("(the total excludes the auxiliary head)")
    mem = s.get("memory")
    if mem:
        lines += ["", f"memory, batch {mem['batch']}: weights {_mb(mem['parameter_bytes'])}, "
                  f"inference activations (peak layer) {_mb(mem['inference_peak_activation_bytes'])}"
                  f", training activations {_mb(mem['training_activation_bytes'])} (estimates)"]
    lat = s.get("latency")
    if lat:
        lines.append(f"latency, batch {lat['batch']} on {lat['device']}: median "
                     f"{lat['median_ms']:.2f} ms over {lat['repeats']} runs "
                     f"({lat['throughput_per_s']:.1f} images/s)")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from engine.arch.sources import resolve_source
    from engine.arch.validate import DesignError
    from engine.cli import CliError

    for flag, value in (("--classes", args.classes), ("--layers", args.layers),
                        ("--channels", args.channels), ("--batch", args.batch)):
        if value is not None and value < 1:
            raise CliError(f"{flag} must be a positive whole number, got {value}")
    try:
        design = resolve_source(args.source, input_shape=args.input, classes=args.classes,
                                layers=args.layers, channels=args.channels,
                                auxiliary=args.auxiliary)
    except DesignError as exc:
        raise CliError(str(exc)) from None
    from engine.cost import summarize

    try:
        summary = summarize(design, batch=args.batch, memory=True, latency=args.latency,
                            device=args.device)
    except DesignError as exc:  # shapes that do not compose (located by the cost path)
        raise CliError(f"{design.name}: {exc}") from None
    except ValueError as exc:  # a design the validator let through but the builder cannot
        raise CliError(f"{design.name}: {exc}") from None
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(format_summary(summary))
    return 0
