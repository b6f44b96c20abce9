"""``nas-studio space``: a search space's choices, size and params/MACs range, or its members."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from engine.arch.model import Design
from engine.arch.space import Choice, SearchSpace
from engine.cost.space_range import EXACT_LIMIT


def add_parser(sub: Any) -> None:
    from engine.arch.space import BUILTIN_SPACES

    p = sub.add_parser(
        "space", help="show a search space's size and params/MACs range, or list its members",
        description="Show a search space: its choices, its size and the range of parameters "
        "and MACs over all its members (exact where computable: enumerated, or a per-choice "
        f"bound; marked as an estimate otherwise). SPACE is a built-in space "
        f"({', '.join(BUILTIN_SPACES)}), a space file or a design file. With --enumerate, "
        "one JSON line per member: its text form (cellstr, genotype or block strings), "
        "params and macs.")
    p.add_argument("space", metavar="SPACE", help="built-in space name, space file or design file")
    p.add_argument("--enumerate", action="store_true",
                   help=f"list the members as JSON lines (refused above {EXACT_LIMIT:,} "
                   "members unless --limit is given)")
    p.add_argument("--limit", type=int, metavar="N", help="list at most the first N members")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def load(text: str) -> Any:
    """A built-in space, a space file, or a design file (a space of one member)."""
    from pathlib import Path

    from engine.arch.space import BUILTIN_SPACES, SpaceError, get_space
    from engine.arch.validate import DesignError
    from engine.cli import CliError

    path = Path(text)
    if text not in BUILTIN_SPACES and path.suffix.lower() == ".json" and path.is_file():
        try:
            head = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError, UnicodeDecodeError):
            head = None
        if isinstance(head, dict) and head.get("format") == "nas-studio-design":
            from engine.arch.serialize import load_design

            try:
                return SingleDesign(load_design(path))
            except DesignError as exc:
                raise CliError(f"{path}: {exc}") from None
    try:
        return get_space(text)
    except SpaceError as exc:
        raise CliError(str(exc)) from None
    except DesignError as exc:
        raise CliError(f"{text}: {exc}") from None


class SingleDesign(SearchSpace):
    """A one-member space holding ``design`` (a design file given as SPACE)."""

    def __init__(self, design: Design) -> None:
        self.design = design
        self.name = design.name

    def choices(self) -> list[Choice]:
        return []

    def decode(self, code: Sequence[int]) -> Design:
        self.check_code(code)
        return self.design.copy()

    def encode(self, design: Design) -> tuple[int, ...]:
        return ()

    def spec(self) -> dict[str, Any]:
        return {"design": self.design.name}


def _fmt_range(lo: int, hi: int) -> str:
    return f"{lo:,} .. {hi:,}"


def run(args: argparse.Namespace) -> int:
    from engine.arch.validate import DesignError
    from engine.cli import CliError
    from engine.cost.space_range import enumerate_members, log10_size, space_cost

    if args.limit is not None and args.limit < 0:
        raise CliError(f"--limit must be a whole number of at least 0, got {args.limit}")
    space = load(args.space)
    size = space.size()
    if args.enumerate:
        if size > EXACT_LIMIT and args.limit is None:
            raise CliError(f"space {space.name!r} has {size:,} members (more than "
                           f"{EXACT_LIMIT:,}); give --limit N to list the first N")
        out = sys.stdout
        for row in enumerate_members(space, args.limit):
            out.write(json.dumps(row) + "\n")
        return 0
    try:
        result = space_cost(space)
    except DesignError as exc:
        raise CliError(str(exc)) from None
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
        return 0
    how = "exact" if result.exact else "ESTIMATE"
    lines = [f"space {result.space}: {size:,} member{'s' * (size != 1)}"
             + (f" (10^{log10_size(space):.1f})" if size > 10 ** 6 else ""),
             f"params {_fmt_range(*result.params)}   ({how}: {result.method})",
             f"MACs   {_fmt_range(*result.macs)}   ({how}: {result.method})",
             "", f"choices ({len(result.choices)}):"]
    for c in result.choices:
        opts = ", ".join(str(o) for o in c["options"])
        lines.append(f"  {c['name']}: {opts}")
    print("\n".join(lines))
    return 0
