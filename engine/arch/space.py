"""Search spaces: decision points (choices) on the same design model the editors show.

A space lists its choices; a *code* is a tuple holding one option index per choice.
``decode(code)`` returns an ordinary ``CellDesign`` or ``BlockStack`` and
``encode(design)`` goes back, so strategies work on small hashable codes while
everything they produce can be drawn, built, stored and exported.

Built-in spaces: ``darts`` (DARTS cell space, small macro), ``nas-bench-201``
(5 ops on the 6 edges of a 4-node cell) and ``mbconv`` (an EfficientNet-B0-like
stack with per-stage choices).  ``load_space(path)`` reads a space from a JSON file,
either a built-in with options or a base design plus choices at named paths.

Pure Python: no torch.
"""

from __future__ import annotations

import copy
import itertools
import json
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.arch import jsonio
from engine.arch.model import BlockStack, Cell, CellDesign, CellMacro, Design, Edge, Stage
from engine.ops import registry

Code = tuple[int, ...]
SPACE_FORMAT = "nas-studio-space"


class SpaceError(ValueError):
    """A space definition or a design that does not fit a space; message names the place."""


@dataclass(frozen=True)
class Choice:
    """One decision point: ``name`` says where it is, ``options`` what it may be."""

    name: str
    options: tuple[Any, ...]

    def __len__(self) -> int:
        return len(self.options)


class SearchSpace:
    """Base class: subclasses define ``choices()``, ``decode`` and ``encode``."""

    name = "space"

    def choices(self) -> list[Choice]:
        raise NotImplementedError

    def decode(self, code: Sequence[int]) -> Design:
        raise NotImplementedError

    def encode(self, design: Design) -> Code:
        raise NotImplementedError

    def spec(self) -> dict[str, Any]:
        """JSON description from which ``space_from_spec`` rebuilds this space."""
        raise NotImplementedError

    # -- shared behaviour ------------------------------------------------------------
    def sizes(self) -> tuple[int, ...]:
        if "_sizes" not in self.__dict__:
            self.__dict__["_sizes"] = tuple(len(c) for c in self.choices())
        return self.__dict__["_sizes"]

    def full_size(self) -> int:
        """Number of distinct codes of the whole space (ignoring a restriction)."""
        return math.prod(self.sizes())

    def size(self) -> int:
        """Number of distinct codes (of the restriction when there is one)."""
        allowed = self.__dict__.get("_allowed")
        return len(allowed) if allowed is not None else self.full_size()

    def restrict(self, codes: Sequence[Sequence[int]]) -> None:
        """Sample and mutate only among ``codes`` from now on (a partial benchmark table:
        the cells it lists).  Strategies that build codes otherwise ask ``allows``."""
        allowed = sorted({self.check_code(c) for c in codes})
        if not allowed:
            raise SpaceError(f"{self.name}: cannot restrict the space to no codes")
        self.__dict__["_allowed"] = allowed
        self.__dict__["_allowed_set"] = frozenset(allowed)

    def allows(self, code: Sequence[int]) -> bool:
        """Whether ``code`` is in the restriction (always, without one)."""
        allowed = self.__dict__.get("_allowed_set")
        return allowed is None or tuple(code) in allowed

    def nearest_allowed(self, code: Sequence[int], rng: random.Random) -> Code:
        """``code`` when allowed, else one of the allowed codes fewest choices away."""
        code = tuple(code)
        allowed = self.__dict__.get("_allowed")
        if allowed is None or code in self.__dict__["_allowed_set"]:
            return code
        return self._mutate_within(code, allowed, rng)

    def check_code(self, code: Sequence[int]) -> Code:
        sizes = self.sizes()
        code = tuple(int(i) for i in code)
        if len(code) != len(sizes):
            raise SpaceError(f"{self.name}: code has {len(code)} entries, expected {len(sizes)}")
        for i, (v, n) in enumerate(zip(code, sizes, strict=True)):
            if not 0 <= v < n:
                raise SpaceError(f"{self.name}: choice {self.choices()[i].name}: "
                                 f"index {v} out of range 0..{n - 1}")
        return code

    def sample_code(self, rng: random.Random) -> Code:
        allowed = self.__dict__.get("_allowed")
        if allowed is not None:
            return allowed[rng.randrange(len(allowed))]
        return tuple(rng.randrange(n) for n in self.sizes())

    def mutate_code(self, code: Sequence[int], rng: random.Random) -> Code:
        """Change exactly one choice (one with at least two options) to another option.

        In a restricted space: an allowed code one choice away, else one of the nearest
        other allowed codes."""
        allowed = self.__dict__.get("_allowed")
        if allowed is not None:
            return self._mutate_within(tuple(code), allowed, rng)
        sizes = self.sizes()
        free = [i for i, n in enumerate(sizes) if n > 1]
        if not free:
            return tuple(code)
        i = rng.choice(free)
        new = rng.randrange(sizes[i] - 1)
        if new >= code[i]:
            new += 1
        out = list(code)
        out[i] = new
        return tuple(out)

    @staticmethod
    def _mutate_within(code: Code, allowed: list[Code], rng: random.Random) -> Code:
        best: list[Code] = []
        best_d = len(code) + 1
        for other in allowed:  # one pass over the listed codes
            d = sum(a != b for a, b in zip(code, other, strict=True))
            if 0 < d < best_d:
                best, best_d = [other], d
            elif d == best_d:
                best.append(other)
        return best[rng.randrange(len(best))] if best else code

    def sample(self, rng: random.Random) -> Design:
        """A uniformly random design of this space."""
        return self.decode(self.sample_code(rng))

    def mutate(self, design: Design, rng: random.Random) -> Design:
        """A copy of ``design`` with one choice changed."""
        return self.decode(self.mutate_code(self.encode(design), rng))

    def describe(self, code: Sequence[int]) -> dict[str, Any]:
        """``{choice name: chosen option}`` for display."""
        return {c.name: c.options[i] for c, i in zip(self.choices(), code, strict=True)}


def _code_tag(code: Sequence[int]) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    return "".join(digits[i] if i < len(digits) else f"({i})" for i in code)


# -- DARTS cell space -----------------------------------------------------------------------

class DartsSpace(SearchSpace):
    """The DARTS cell space: each of ``nodes`` intermediate nodes sums two distinct
    earlier nodes through one op each; normal and reduction cells are searched.

    ``ops`` defaults to the 8 DARTS ops; ``none`` is kept for the one-shot supernet but
    not offered to discrete samples (a derived DARTS cell never contains it) unless
    ``allow_none=True``.
    """

    name = "darts"

    def __init__(self, *, nodes: int = 4, ops: Sequence[str] = registry.DARTS_OPS,
                 allow_none: bool = False, channels: int = 8, layers: int = 5,
                 stem_multiplier: int = 3, input_shape: Sequence[int] = (3, 32, 32),
                 classes: int = 10, auxiliary: bool = False, drop_path: float = 0.0) -> None:
        for op in ops:
            if not registry.exists(op) or registry.get(op).kind != "cell":
                raise SpaceError(f"darts space: ops: {op!r} is not a registered cell op")
        if nodes < 1:
            raise SpaceError("darts space: nodes: need at least 1 intermediate node")
        self.nodes = int(nodes)
        self.ops = tuple(ops)
        self.allow_none = bool(allow_none)
        self.edge_ops = tuple(o for o in self.ops if allow_none or o != "none")
        if not self.edge_ops:
            raise SpaceError("darts space: ops: no op left to choose")
        self.macro = CellMacro(style="darts", channels=int(channels), layers=int(layers),
                               stem_multiplier=int(stem_multiplier), auxiliary=bool(auxiliary),
                               drop_path=float(drop_path), input_shape=tuple(input_shape),
                               classes=int(classes))
        self._choices: list[Choice] = []
        for cell in ("normal", "reduce"):
            for k in range(self.nodes):
                node = 2 + k
                pairs = tuple(itertools.combinations(range(node), 2))
                self._choices.append(Choice(f"{cell}.node{node}.inputs", pairs))
                self._choices.append(Choice(f"{cell}.node{node}.op_a", self.edge_ops))
                self._choices.append(Choice(f"{cell}.node{node}.op_b", self.edge_ops))

    def choices(self) -> list[Choice]:
        return list(self._choices)

    def spec(self) -> dict[str, Any]:
        m = self.macro
        return {"space": "darts", "nodes": self.nodes, "ops": list(self.ops),
                "allow_none": self.allow_none, "channels": m.channels, "layers": m.layers,
                "stem_multiplier": m.stem_multiplier, "input_shape": list(m.input_shape),
                "classes": m.classes, "auxiliary": m.auxiliary, "drop_path": m.drop_path}

    def _cell(self, code: Sequence[int]) -> Cell:
        edges = []
        for k in range(self.nodes):
            node = 2 + k
            ci, ca, cb = code[3 * k: 3 * k + 3]
            a, b = self._choices[3 * k].options[ci]
            edges.append(Edge(a, node, self.edge_ops[ca]))
            edges.append(Edge(b, node, self.edge_ops[cb]))
        nodes = [2 + k for k in range(self.nodes)]
        return Cell(n_inputs=2, nodes=nodes, edges=edges, concat=list(nodes))

    def decode(self, code: Sequence[int]) -> CellDesign:
        code = self.check_code(code)
        half = 3 * self.nodes
        return CellDesign(name=f"darts-{_code_tag(code)}", normal=self._cell(code[:half]),
                          reduce=self._cell(code[half:]), macro=copy.deepcopy(self.macro))

    def _encode_cell(self, cell: Cell | None, which: str) -> list[int]:
        if cell is None:
            raise SpaceError(f"{which} cell: missing; the darts space searches both cells")
        expected = [2 + k for k in range(self.nodes)]
        if sorted(cell.nodes) != expected or cell.n_inputs != 2:
            raise SpaceError(f"{which} cell: nodes {sorted(cell.nodes)} do not match the "
                             f"space's {expected} (2 inputs)")
        out: list[int] = []
        for node in expected:
            ins = sorted(cell.inputs_of(node), key=lambda e: e.source)
            srcs = tuple(e.source for e in ins)
            loc = f"{which} cell, node {node}"
            if len(ins) != 2 or srcs[0] == srcs[1]:
                raise SpaceError(f"{loc}: needs two edges from distinct nodes, has {srcs}")
            try:
                pair = self._choices[3 * (node - 2)].options.index(srcs)
                ops = [self.edge_ops.index(e.op) for e in ins]
            except ValueError:
                raise SpaceError(f"{loc}: inputs {srcs} / ops {[e.op for e in ins]} "
                                 f"are outside the space") from None
            out += [pair, *ops]
        return out

    def encode(self, design: Design) -> Code:
        if not isinstance(design, CellDesign):
            raise SpaceError("darts space: design is not a cell design")
        return tuple(self._encode_cell(design.normal, "normal")
                     + self._encode_cell(design.reduce, "reduce"))


# -- NAS-Bench-201 --------------------------------------------------------------------------

NB201_EDGES: tuple[tuple[int, int], ...] = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
"""(source, target) of each edge in cell-string order."""


class NB201Space(SearchSpace):
    """NAS-Bench-201: one op of 5 on each of the 6 edges of a 4-node cell (15,625 cells)."""

    name = "nas-bench-201"

    def __init__(self, *, ops: Sequence[str] = registry.NB201_OPS, channels: int = 16,
                 layers: int = 5, input_shape: Sequence[int] = (3, 32, 32),
                 classes: int = 10) -> None:
        for op in ops:
            if not registry.exists(op):
                raise SpaceError(f"nas-bench-201 space: ops: unknown op {op!r}")
        self.ops = tuple(ops)
        self.macro = CellMacro(style="nb201", channels=int(channels), layers=int(layers),
                               stem_multiplier=1, auxiliary=False, drop_path=0.0,
                               input_shape=tuple(input_shape), classes=int(classes))
        self._choices = [Choice(f"edge {s}->{t}", self.ops) for s, t in NB201_EDGES]
        self._op_index = {op: i for i, op in enumerate(self.ops)}

    def choices(self) -> list[Choice]:
        return list(self._choices)

    def spec(self) -> dict[str, Any]:
        m = self.macro
        return {"space": "nas-bench-201", "ops": list(self.ops), "channels": m.channels,
                "layers": m.layers, "input_shape": list(m.input_shape), "classes": m.classes}

    def cellstr(self, code: Sequence[int]) -> str:
        """The NAS-Bench-201 cell string of a code (no design object needed)."""
        o = self.ops
        return (f"|{o[code[0]]}~0|+|{o[code[1]]}~0|{o[code[2]]}~1|+"
                f"|{o[code[3]]}~0|{o[code[4]]}~1|{o[code[5]]}~2|")

    def code_of_cellstr(self, text: str) -> Code:
        """Parse a cell string into a code; SpaceError names the bad part."""
        if "_codes" not in self.__dict__:  # all 5^6 strings: a dict lookup per table row
            self.__dict__["_codes"] = {self.cellstr(c): c for c in itertools.product(
                range(len(self.ops)), repeat=len(NB201_EDGES))}
        code = self.__dict__["_codes"].get(text.strip())
        if code is not None:
            return code
        parts = text.strip().split("+")
        if len(parts) != 3:
            raise SpaceError(f"cell string {text!r}: expected 3 '+'-separated nodes")
        code: list[int] = []
        for target, part in enumerate(parts, start=1):
            items = [p for p in part.strip().split("|") if p]
            if len(items) != target:
                raise SpaceError(f"cell string {text!r}: node {target} needs {target} inputs")
            for source, item in enumerate(items):
                op, sep, src = item.partition("~")
                if not sep or src != str(source):
                    raise SpaceError(f"cell string {text!r}: node {target}: bad item {item!r}")
                if op not in self._op_index:
                    raise SpaceError(f"cell string {text!r}: node {target}: unknown op {op!r}")
                code.append(self._op_index[op])
        return tuple(code)

    def decode(self, code: Sequence[int]) -> CellDesign:
        code = self.check_code(code)
        edges = [Edge(s, t, self.ops[i]) for (s, t), i in zip(NB201_EDGES, code, strict=True)]
        cell = Cell(n_inputs=1, nodes=[1, 2, 3], edges=edges, concat=[3])
        return CellDesign(name=f"nb201-{_code_tag(code)}", normal=cell, reduce=None,
                          macro=copy.deepcopy(self.macro))

    def encode(self, design: Design) -> Code:
        if not isinstance(design, CellDesign):
            raise SpaceError("nas-bench-201 space: design is not a cell design")
        cell = design.normal
        by_edge = {(e.source, e.target): e.op for e in cell.edges}
        if len(by_edge) != len(cell.edges) or set(by_edge) != set(NB201_EDGES):
            raise SpaceError("nas-bench-201 space: normal cell must have exactly the 6 edges "
                             f"{list(NB201_EDGES)}")
        try:
            return tuple(self._op_index[by_edge[e]] for e in NB201_EDGES)
        except KeyError as exc:
            raise SpaceError(f"nas-bench-201 space: op {exc.args[0]!r} outside the space") from None


# -- MBConv block stacks ---------------------------------------------------------------------

B0_STAGES: tuple[tuple[str, int, int, int, float, int], ...] = (
    ("ds", 1, 3, 1, 1, 16), ("ir", 2, 3, 2, 6, 24), ("ir", 2, 5, 2, 6, 40),
    ("ir", 3, 3, 2, 6, 80), ("ir", 3, 5, 1, 6, 112), ("ir", 4, 5, 2, 6, 192),
    ("ir", 1, 3, 1, 6, 320))
"""EfficientNet-B0 stages: (block, repeats, kernel, stride, expansion, channels)."""


class MBConvSpace(SearchSpace):
    """An EfficientNet-B0-like stack: per stage kernel, expansion (ir blocks), SE on/off and
    repeats (base-1 .. base+1); global width and depth multipliers."""

    name = "mbconv"

    def __init__(self, *, stages: Sequence[Sequence[Any]] = B0_STAGES,
                 kernels: Sequence[int] = (3, 5), expansions: Sequence[float] = (3, 6),
                 se_ratio: float = 0.25, widths: Sequence[float] = (0.25, 0.5, 0.75, 1.0),
                 depths: Sequence[float] = (0.5, 0.75, 1.0), stem_channels: int = 32,
                 head_channels: int = 1280, resolution: int = 32, in_channels: int = 3,
                 classes: int = 10, dropout: float = 0.2, act: str = "silu") -> None:
        self.stages = [tuple(s) for s in stages]
        for i, s in enumerate(self.stages):
            if len(s) != 6 or s[0] not in ("ds", "ir"):
                raise SpaceError(f"mbconv space: stages[{i}]: expected "
                                 "(block ds|ir, repeats, kernel, stride, expansion, channels)")
        self.kernels, self.expansions = tuple(kernels), tuple(expansions)
        self.widths, self.depths = tuple(widths), tuple(depths)
        if not (self.kernels and self.expansions and self.widths and self.depths):
            raise SpaceError("mbconv space: kernels/expansions/widths/depths must be non-empty")
        self.se_ratio = float(se_ratio)
        self.base = dict(stem_channels=int(stem_channels), head_channels=int(head_channels),
                         resolution=int(resolution), in_channels=int(in_channels),
                         classes=int(classes), dropout=float(dropout), act=act)
        self._choices: list[Choice] = []
        for i, (block, reps, *_rest) in enumerate(self.stages):
            self._choices.append(Choice(f"stages.{i}.kernel", self.kernels))
            if block == "ir":
                self._choices.append(Choice(f"stages.{i}.expansion", self.expansions))
            self._choices.append(Choice(f"stages.{i}.se", (0.0, self.se_ratio)))
            reps_opts = tuple(sorted({max(1, reps - 1), reps, reps + 1}))
            self._choices.append(Choice(f"stages.{i}.repeats", reps_opts))
        self._choices.append(Choice("width_mult", self.widths))
        self._choices.append(Choice("depth_mult", self.depths))

    def choices(self) -> list[Choice]:
        return list(self._choices)

    def spec(self) -> dict[str, Any]:
        return {"space": "mbconv", "stages": [list(s) for s in self.stages],
                "kernels": list(self.kernels), "expansions": list(self.expansions),
                "se_ratio": self.se_ratio, "widths": list(self.widths),
                "depths": list(self.depths), **self.base}

    def decode(self, code: Sequence[int]) -> BlockStack:
        code = self.check_code(code)
        values = dict(zip((c.name for c in self._choices),
                          (c.options[i] for c, i in zip(self._choices, code, strict=True)),
                          strict=True))
        stages = []
        for i, (block, _reps, _k, stride, exp, ch) in enumerate(self.stages):
            stages.append(Stage(block=block, repeats=values[f"stages.{i}.repeats"],
                                kernel=values[f"stages.{i}.kernel"], stride=int(stride),
                                expansion=values.get(f"stages.{i}.expansion", exp),
                                channels=int(ch), se=values[f"stages.{i}.se"],
                                act=self.base["act"]))
        b = self.base
        return BlockStack(name=f"mbconv-{_code_tag(code)}", stages=stages,
                          stem_channels=b["stem_channels"], head_channels=b["head_channels"],
                          width_mult=values["width_mult"], depth_mult=values["depth_mult"],
                          resolution=b["resolution"], dropout=b["dropout"], stochastic_depth=0.0,
                          act=b["act"], in_channels=b["in_channels"], classes=b["classes"])

    def encode(self, design: Design) -> Code:
        if not isinstance(design, BlockStack):
            raise SpaceError("mbconv space: design is not a block stack")
        if len(design.stages) != len(self.stages):
            raise SpaceError(f"mbconv space: design has {len(design.stages)} stages, "
                             f"the space {len(self.stages)}")
        out = []
        for c in self._choices:
            value = _get_path(design, c.name)
            if value not in c.options:
                raise SpaceError(f"mbconv space: {c.name}: {value!r} is not one of "
                                 f"{list(c.options)}")
            out.append(c.options.index(value))
        return tuple(out)


# -- choices at paths of a base design (space files) ------------------------------------------

def _get_path(obj: Any, path: str) -> Any:
    for token in path.split("."):
        obj = obj[int(token)] if token.lstrip("-").isdigit() else getattr(obj, token)
    return obj


def _set_path(obj: Any, path: str, value: Any) -> None:
    head, _, last = path.rpartition(".")
    parent = _get_path(obj, head) if head else obj
    if last.lstrip("-").isdigit():
        parent[int(last)] = value
    else:
        setattr(parent, last, value)


class PathSpace(SearchSpace):
    """A base design with choices at named paths (``normal.edges.3.op``, ``stages.2.kernel``,
    ``width_mult``, ``macro.channels``): the space a user marks on a drawn design."""

    def __init__(self, base: Design, choices: Sequence[Choice], name: str = "custom",
                 base_spec: Any = None) -> None:
        self.base = base
        self.name = name
        self.base_spec = base_spec
        self._choices = list(choices)
        if not self._choices:
            raise SpaceError(f"space {name!r}: no choices")
        for c in self._choices:
            if not c.options:
                raise SpaceError(f"space {name!r}: choice {c.name}: no options")
            try:
                current = _get_path(base, c.name)
            except (AttributeError, IndexError, ValueError, TypeError, KeyError):
                raise SpaceError(f"space {name!r}: choice {c.name}: no such place in the "
                                 "base design") from None
            if isinstance(current, (list, dict, Cell, Stage, CellMacro)):
                raise SpaceError(f"space {name!r}: choice {c.name}: must name a single value")
            if c.name.endswith(".op"):
                bad = [o for o in c.options if not registry.exists(str(o))]
                if bad:
                    raise SpaceError(f"space {name!r}: choice {c.name}: unknown ops {bad}")

    def choices(self) -> list[Choice]:
        return list(self._choices)

    def spec(self) -> dict[str, Any]:
        return {"base": self.base_spec, "name": self.name,
                "choices": [{"path": c.name, "options": list(c.options)} for c in self._choices]}

    def decode(self, code: Sequence[int]) -> Design:
        code = self.check_code(code)
        design = self.base.copy()
        for c, i in zip(self._choices, code, strict=True):
            _set_path(design, c.name, c.options[i])
        design.name = f"{self.name}-{_code_tag(code)}"
        return design

    def encode(self, design: Design) -> Code:
        out = []
        for c in self._choices:
            value = _get_path(design, c.name)
            if value not in c.options:
                raise SpaceError(f"space {self.name!r}: {c.name}: {value!r} is not an option")
            out.append(c.options.index(value))
        return tuple(out)


# -- registry of spaces and loading -----------------------------------------------------------

BUILTIN_SPACES: dict[str, type[SearchSpace]] = {
    "darts": DartsSpace, "nas-bench-201": NB201Space, "nb201": NB201Space, "mbconv": MBConvSpace}


def _base_design(base: Any) -> Design:
    if isinstance(base, str):
        from engine.arch.presets import get_preset

        try:
            return get_preset(base)
        except KeyError as exc:
            raise SpaceError(f"base: {exc.args[0]}") from None
    if isinstance(base, dict):
        from engine.arch.serialize import design_from_dict

        return design_from_dict(base)
    raise SpaceError("base: expected a preset name or a design object")


def space_from_spec(spec: dict[str, Any]) -> SearchSpace:
    """Rebuild a space from ``SearchSpace.spec()`` or a space file's content."""
    if not isinstance(spec, dict):
        raise SpaceError("space: expected a JSON object")
    spec = {k: v for k, v in spec.items() if k not in ("format", "version")}
    if "space" in spec:
        kind = spec.pop("space")
        if kind not in BUILTIN_SPACES:
            raise SpaceError(f"space: unknown built-in {kind!r}; known: "
                             f"{', '.join(BUILTIN_SPACES)}")
        options = spec.pop("options", {})
        try:
            return BUILTIN_SPACES[kind](**{**spec, **options})
        except TypeError as exc:
            raise SpaceError(f"space {kind}: {exc}") from None
    if "base" not in spec or "choices" not in spec:
        raise SpaceError("space: needs either \"space\" (a built-in) or \"base\" and \"choices\"")
    choices = []
    for i, c in enumerate(spec["choices"]):
        if not isinstance(c, dict) or "path" not in c or not isinstance(c.get("options"), list):
            raise SpaceError(f"choices[{i}]: expected {{\"path\": ..., \"options\": [...]}}")
        choices.append(Choice(str(c["path"]), tuple(c["options"])))
    return PathSpace(_base_design(spec["base"]), choices, name=str(spec.get("name", "custom")),
                     base_spec=spec["base"])


def load_space(path: str | Path) -> SearchSpace:
    """Read a space file (JSON, ``"format": "nas-studio-space"``); errors name the file."""
    path = Path(path)
    try:
        data = jsonio.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SpaceError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise SpaceError(f"{path}: cannot read: not UTF-8 text ({exc.reason})") from None
    except jsonio.JSONDepthError as exc:
        raise SpaceError(f"{path}: line {exc.lineno}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise SpaceError(f"{path}: line {exc.lineno}: invalid JSON: {exc.msg}") from None
    if isinstance(data, dict) and data.get("format", SPACE_FORMAT) != SPACE_FORMAT:
        raise SpaceError(f"{path}: format {data.get('format')!r} is not {SPACE_FORMAT!r}")
    try:
        return space_from_spec(data)
    except SpaceError as exc:
        raise SpaceError(f"{path}: {exc}") from None


def get_space(name_or_path: str, **options: Any) -> SearchSpace:
    """A built-in space by name (with options) or a space file."""
    if name_or_path in BUILTIN_SPACES:
        return BUILTIN_SPACES[name_or_path](**options)
    if Path(name_or_path).suffix.lower() == ".json" or Path(name_or_path).exists():
        return load_space(name_or_path)
    raise SpaceError(f"unknown space {name_or_path!r}; built-ins: "
                     f"{', '.join(BUILTIN_SPACES)}, or a .json space file")

