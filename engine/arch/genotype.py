"""DARTS ``Genotype(...)`` text, parsed by a small tokenizer (never evaluated).

Accepted::

    Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ...],
             normal_concat=range(2, 6), reduce=[...], reduce_concat=[2, 3, 4, 5])

with single or double quotes, any whitespace and newlines, tuples or lists, an
optional ``NAME =`` / ``genotypes.`` prefix, positional fields, ``range(a, b)`` or
``list(range(a, b))`` for a concat, and the nested per-node form some repositories
print (``normal=[[('sep_conv_3x3', 0), ('skip_connect', 1)], ...]``).  Node ``2 + i``
sums pairs ``2i`` and ``2i + 1``; ``0`` and ``1`` are the cell inputs.
``format_genotype`` writes the canonical form, relabelling intermediate nodes in
(stable) topological order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.arch.model import MAX_CELL_NODES, Cell, CellDesign, CellMacro, CellOrderError, Edge
from engine.arch.validate import DesignError, Problem

FIELDS = ("normal", "normal_concat", "reduce", "reduce_concat")
WHERE = "Genotype text"
# Bounds checked before anything is built: the largest cell (MAX_CELL_NODES nodes, 2 pairs
# each) in both cells is about 100 kB of text and 4 levels of brackets.
MAX_CHARS = 1_000_000
MAX_NESTING = 8
MAX_DIGITS = 18


@dataclass
class _Tok:
    kind: str  # "name", "str", "int", "op", "end"
    text: str
    value: Any
    line: int
    col: int


@dataclass
class _Val:
    kind: str  # "list", "str", "int"
    value: Any
    tok: _Tok


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.multiline = "\n" in text.strip()
        if len(text) > MAX_CHARS:
            raise DesignError(Problem(WHERE, f"is {len(text):,} characters long; a Genotype "
                                      f"is at most {MAX_CHARS:,}"))
        self.toks = self._tokenize(text)
        self.i = 0
        self.depth = 0

    # -- errors ----------------------------------------------------------------------
    def where(self, tok: _Tok) -> str:
        if self.multiline:
            return f"{WHERE}, line {tok.line}, column {tok.col}"
        return f"{WHERE}, column {tok.col}"

    def fail(self, tok: _Tok, message: str) -> DesignError:
        return DesignError(Problem(self.where(tok), message))

    # -- tokens ----------------------------------------------------------------------
    def _tokenize(self, text: str) -> list[_Tok]:
        toks: list[_Tok] = []
        i, line, line_start = 0, 1, 0
        n = len(text)
        while i < n:
            ch = text[i]
            col = i - line_start + 1
            if ch == "\n":
                line, line_start = line + 1, i + 1
                i += 1
            elif ch.isspace():
                i += 1
            elif ch.isalpha() or ch == "_":
                j = i
                while j < n and (text[j].isalnum() or text[j] == "_"):
                    j += 1
                toks.append(_Tok("name", text[i:j], text[i:j], line, col))
                i = j
            elif ch.isdigit() or (ch == "-" and i + 1 < n and text[i + 1].isdigit()):
                j = i + 1
                while j < n and text[j].isdigit():
                    j += 1
                if j - i - (ch == "-") > MAX_DIGITS:
                    raise DesignError(Problem(self.where(_Tok("", "", None, line, col)),
                                              f"number {text[i:i + 12]}... ({j - i} digits) "
                                              f"is too large"))
                toks.append(_Tok("int", text[i:j], int(text[i:j]), line, col))
                i = j
            elif ch in "'\"":
                j = text.find(ch, i + 1)
                nl = text.find("\n", i + 1)
                if j < 0 or (0 <= nl < j):
                    raise DesignError(Problem(self.where(_Tok("", "", None, line, col)),
                                              "unterminated string"))
                toks.append(_Tok("str", text[i:j + 1], text[i + 1:j], line, col))
                i = j + 1
            elif ch in "()[],=.":
                toks.append(_Tok("op", ch, ch, line, col))
                i += 1
            else:
                raise DesignError(Problem(self.where(_Tok("", "", None, line, col)),
                                          f"unexpected character {ch!r}"))
        toks.append(_Tok("end", "end of text", None, line, len(text) - line_start + 1))
        return toks

    def peek(self, k: int = 0) -> _Tok:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def take(self) -> _Tok:
        tok = self.peek()
        self.i += 1
        return tok

    def expect(self, text: str, after_item: bool = False) -> _Tok:
        tok = self.peek()
        if tok.kind != "op" or tok.text != text:
            want = f"',' or {text!r}" if after_item else repr(text)
            raise self.fail(tok, f"expected {want}, got {_shown(tok)}")
        return self.take()

    def accept(self, text: str) -> bool:
        tok = self.peek()
        if tok.kind == "op" and tok.text == text:
            self.i += 1
            return True
        return False

    # -- grammar -----------------------------------------------------------------------
    def genotype(self) -> dict[str, _Val]:
        if self.peek().kind == "end":
            raise DesignError(Problem(WHERE, "is empty"))
        if self.peek().kind == "name" and self.peek(1).text == "=" and \
                self.peek(2).kind == "name":
            self.i += 2  # "DARTS_V2 = Genotype(...)"
        if self.peek().kind == "name":
            name = self.take()
            while self.accept("."):
                tok = self.take()
                if tok.kind != "name":
                    raise self.fail(tok, f"expected a name after '.', got {_shown(tok)}")
                name = tok
            if name.text != "Genotype":
                raise self.fail(name, f"expected 'Genotype(', got {name.text!r}")
        open_tok = self.expect("(")
        fields: dict[str, _Val] = {}
        position, keywords = 0, False
        while not self.accept(")"):
            tok = self.peek()
            if tok.kind == "end":
                raise self.fail(tok, "expected ')' to close 'Genotype('"
                                f" opened at column {open_tok.col}")
            if tok.kind == "name" and self.peek(1).text == "=":
                key = tok.text
                if key not in FIELDS:
                    raise self.fail(tok, f"unknown field {key!r}; expected one of "
                                    f"{', '.join(FIELDS)}")
                self.i += 2
                keywords = True
            else:
                if position >= len(FIELDS) or keywords:
                    raise self.fail(tok, "expected a field such as normal=...")
                key = FIELDS[position]
                position += 1
            if key in fields:
                raise self.fail(tok, f"field {key!r} given twice")
            fields[key] = self.value()
            if not self.accept(","):
                self.expect(")", after_item=True)
                break
        if self.peek().kind != "end":
            raise self.fail(self.peek(), f"unexpected {_shown(self.peek())} after ')'")
        return fields

    def value(self) -> _Val:
        tok = self.peek()
        if tok.kind in ("str", "int"):
            self.take()
            return _Val(tok.kind, tok.value, tok)
        if self.depth >= MAX_NESTING:
            raise self.fail(tok, f"nested deeper than {MAX_NESTING} levels of brackets")
        self.depth += 1
        try:
            return self._compound(tok)
        finally:
            self.depth -= 1

    def _compound(self, tok: _Tok) -> _Val:
        if tok.kind == "op" and tok.text in "([":
            close = ")" if tok.text == "(" else "]"
            self.take()
            items: list[_Val] = []
            while not self.accept(close):
                items.append(self.value())
                if not self.accept(","):
                    self.expect(close, after_item=True)
                    break
            return _Val("list", items, tok)
        if tok.kind == "name" and tok.text in ("range", "list") and self.peek(1).text == "(":
            self.i += 2
            if tok.text == "list":
                inner = self.value()
                self.expect(")")
                return _Val("list", inner.value, tok)
            args = [self.value()]
            while self.accept(","):
                args.append(self.value())
            self.expect(")")
            if not 1 <= len(args) <= 2 or any(a.kind != "int" for a in args):
                raise self.fail(tok, "range() takes one or two whole numbers")
            lo, hi = (0, args[0].value) if len(args) == 1 else (args[0].value, args[1].value)
            if hi - lo > MAX_CELL_NODES + 2:  # before building the list
                raise self.fail(tok, f"range({lo}, {hi}) lists {hi - lo:,} nodes; a cell has "
                                f"at most {MAX_CELL_NODES:,}")
            return _Val("list", [_Val("int", k, tok) for k in range(lo, hi)], tok)
        raise self.fail(tok, f"expected a value, got {_shown(tok)}")


def _shown(tok: _Tok) -> str:
    return "end of text" if tok.kind == "end" else repr(tok.text)


def _cell(p: _Parser, name: str, ops: _Val, concat: _Val | None, concat_tok: _Tok) -> Cell:
    if ops.kind != "list":
        raise p.fail(ops.tok, f"{name} must be a list of (op, input) pairs")
    pairs: list[tuple[str, int, _Tok]] = []
    nested = bool(ops.value) and ops.value[0].kind == "list" and bool(ops.value[0].value) and \
        ops.value[0].value[0].kind == "list"
    groups = ops.value if nested else [ops]
    for g_index, group in enumerate(groups):
        if group.kind != "list":
            raise p.fail(group.tok, f"{name}: expected a list of pairs for node {2 + g_index}")
        if nested and len(group.value) != 2:
            raise p.fail(group.tok, f"{name}, node {2 + g_index}: a DARTS node has 2 "
                         f"(op, input) pairs, got {len(group.value)}")
        for item in group.value:
            if item.kind != "list" or len(item.value) != 2 or item.value[0].kind != "str" \
                    or item.value[1].kind != "int":
                raise p.fail(item.tok, f"{name}: expected an ('op', input) pair")
            pairs.append((item.value[0].value, item.value[1].value, item.tok))
    if len(pairs) % 2:
        raise p.fail(ops.tok, f"{name}: a DARTS genotype lists 2 (op, input) pairs per node, "
                     f"got {len(pairs)} pairs")
    n_nodes = len(pairs) // 2
    if n_nodes > MAX_CELL_NODES:
        raise p.fail(ops.tok, f"{name}: {n_nodes:,} nodes; a cell has at most "
                     f"{MAX_CELL_NODES:,}")
    edges = []
    for i, (op, src, tok) in enumerate(pairs):
        node = 2 + i // 2
        if not 0 <= src < node:
            raise DesignError(Problem(f"{name}, node {node}", f"input {src} is not an earlier "
                                      f"node (use 0..{node - 1}; {p.where(tok)})"))
        edges.append(Edge(src, node, op))
    ids = list(range(2 + n_nodes))
    if concat is None:
        raise p.fail(concat_tok, f"missing {name}_concat")
    if concat.kind != "list" or any(v.kind != "int" for v in concat.value):
        raise p.fail(concat.tok, f"{name}_concat must be a list of node numbers or range(a, b)")
    out = []
    for v in concat.value:
        if v.value not in ids:
            raise DesignError(Problem(f"{name}_concat", f"node {v.value} does not exist (the "
                                      f"cell has nodes 0..{ids[-1]}; {p.where(v.tok)})"))
        out.append(v.value)
    return Cell(n_inputs=2, nodes=ids[2:], edges=edges, concat=out)


def darts_macro(**macro: Any) -> CellMacro:
    """The DARTS CIFAR network (C=36, 20 cells, 10 classes, 3x32x32), with overrides."""
    unknown = sorted(set(macro) - set(CellMacro.__dataclass_fields__))
    if unknown:
        raise DesignError(f"unknown macro setting(s) {', '.join(map(repr, unknown))}", "macro")
    return CellMacro(**{"style": "darts", **macro})


def parse_genotype(text: str, *, name: str = "genotype", **macro: Any) -> CellDesign:
    """A cell design from DARTS ``Genotype(...)`` text; ``macro`` overrides the network."""
    if not isinstance(text, str):
        raise DesignError(f"expected text, got {type(text).__name__}", WHERE)
    p = _Parser(text)
    fields = p.genotype()
    end = p.toks[-1]
    if "normal" not in fields:
        raise p.fail(end, "missing the normal cell (normal=[...])")
    normal = _cell(p, "normal", fields["normal"], fields.get("normal_concat"), end)
    reduce = None
    if "reduce" in fields:
        reduce = _cell(p, "reduce", fields["reduce"], fields.get("reduce_concat"), end)
    elif "reduce_concat" in fields:
        raise p.fail(fields["reduce_concat"].tok, "reduce_concat given without reduce")
    return CellDesign(name=name, normal=normal, reduce=reduce, macro=darts_macro(**macro))


def stable_topological(cell: Cell, where: str = "cell") -> list[int]:
    """Intermediate nodes in topological order, keeping list order where it is free."""
    try:
        return cell.stable_topological_nodes()
    except CellOrderError as exc:
        raise DesignError(f"nodes {exc.pending} form a cycle or read a missing node",
                          where) from None


def _format_cell(cell: Cell, where: str) -> tuple[str, str]:
    if cell.n_inputs != 2:
        raise DesignError(f"a DARTS genotype cell has 2 inputs, this one has {cell.n_inputs}",
                          where)
    if not cell.nodes:
        raise DesignError("has no intermediate nodes", where)
    order = stable_topological(cell, where)
    label = {0: 0, 1: 1, **{n: 2 + k for k, n in enumerate(order)}}
    node_set = set(cell.nodes)
    for i, e in enumerate(cell.edges):
        if e.target not in node_set:
            raise DesignError(f"edge {i + 1}: target node {e.target} does not exist", where)
    pairs = []
    incoming = cell.edges_by_target()
    for n in order:
        ins = incoming[n]
        if len(ins) != 2:
            raise DesignError(f"a DARTS genotype needs exactly 2 inputs per node, got {len(ins)}",
                              f"{where}, node {n}")
        pairs += [f"({e.op!r}, {label[e.source]})" for e in ins]
    for x in cell.concat:
        if x not in label:
            raise DesignError(f"node {x} does not exist", f"{where}.concat")
    concat = "[" + ", ".join(str(label[x]) for x in cell.concat) + "]"
    return "[" + ", ".join(pairs) + "]", concat


def format_genotype(design: CellDesign) -> str:
    """Canonical ``Genotype(...)`` text of a DARTS-style design (nodes relabelled 2, 3, ...)."""
    normal, nc = _format_cell(design.normal, "normal cell")
    parts = [f"normal={normal}", f"normal_concat={nc}"]
    if design.reduce is not None:
        reduce, rc = _format_cell(design.reduce, "reduce cell")
        parts += [f"reduce={reduce}", f"reduce_concat={rc}"]
    return "Genotype(" + ", ".join(parts) + ")"
