"""Cell networks: the DARTS CIFAR skeleton and the NAS-Bench-201 skeleton.

Any cell DAG from the design model builds: intermediate nodes are evaluated in
``cell.topological_nodes()`` order, each summing an op over all its incoming edges,
and the cell output concatenates ``cell.concat`` (DARTS ``multiplier = len(concat)``).
Ops come from the one registry (``engine.ops.registry``).
"""

from __future__ import annotations

import torch
from torch import nn

from engine.arch.model import Cell, CellDesign
from engine.ops import registry
from engine.ops.torch_ops import FactorizedReduce, Identity, ReLUConvBN

__all__ = ["AuxiliaryHead", "CellBody", "DartsCell", "DartsNetwork", "NB201Cell",
           "NB201Network", "ResNetBasicBlock", "build_cell_network", "drop_path"]


def drop_path(x: torch.Tensor, drop_prob: float) -> torch.Tensor:
    """Zero whole samples with probability ``drop_prob``, rescaling the rest (DARTS)."""
    if drop_prob <= 0.0:
        return x
    keep = 1.0 - drop_prob
    mask = torch.empty(x.shape[0], 1, 1, 1, dtype=x.dtype, device=x.device).bernoulli_(keep)
    return x / keep * mask


class CellBody(nn.Module):
    """The DAG of one cell: one op per edge, nodes summed, concat of chosen nodes.

    Edges leaving a cell input use ``stride`` (2 in a reduction cell); edges between
    intermediate nodes use stride 1.
    """

    def __init__(self, cell: Cell, C: int, reduction: bool, where: str = "cell") -> None:
        super().__init__()
        self.n_inputs = cell.n_inputs
        try:
            self.order = cell.topological_nodes()
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
        self.concat = list(cell.concat)
        self.multiplier = len(self.concat)
        if not self.concat:
            raise ValueError(f"{where}: the output concatenates no nodes")
        known = set(cell.all_ids())
        for node in self.concat:
            if node not in known:
                raise ValueError(f"{where}, output: node {node} does not exist")
            if reduction and node < cell.n_inputs:
                raise ValueError(f"{where}, output: a reduction cell cannot output input "
                                 f"{node} (its resolution is not reduced)")
        self.sources: list[int] = []
        self.incoming: dict[int, list[int]] = {n: [] for n in self.order}
        ops = []
        for i, edge in enumerate(cell.edges):
            if edge.target not in self.incoming:
                raise ValueError(f"{where}, edge {i}: target {edge.target} is not an "
                                 f"intermediate node")
            stride = 2 if reduction and edge.source < cell.n_inputs else 1
            if not registry.exists(edge.op) or registry.get(edge.op).kind != "cell":
                raise ValueError(f"{where}, edge {i}: unknown cell op {edge.op!r}")
            ops.append(registry.get(edge.op).resolve()(C, stride, True))
            self.sources.append(edge.source)
            self.incoming[edge.target].append(i)
        for node, edges in self.incoming.items():
            if not edges:
                raise ValueError(f"{where}, node {node}: has no incoming edge")
        self.ops = nn.ModuleList(ops)

    def forward(self, inputs: list[torch.Tensor], drop_prob: float = 0.0) -> torch.Tensor:
        states: dict[int, torch.Tensor] = dict(enumerate(inputs))
        drop = self.training and drop_prob > 0.0
        for node in self.order:
            total: torch.Tensor | None = None
            for i in self.incoming[node]:
                op = self.ops[i]
                h = op(states[self.sources[i]])
                if drop and not isinstance(op, Identity):
                    h = drop_path(h, drop_prob)
                total = h if total is None else total + h
            states[node] = total  # type: ignore[assignment]
        if len(self.concat) == 1:
            return states[self.concat[0]]
        return torch.cat([states[n] for n in self.concat], dim=1)


class DartsCell(nn.Module):
    """A DARTS cell: preprocess the previous two outputs to ``C``, then the cell DAG."""

    def __init__(self, cell: Cell, c_prev_prev: int, c_prev: int, C: int, reduction: bool,
                 reduction_prev: bool, where: str = "cell") -> None:
        super().__init__()
        if cell.n_inputs not in (1, 2):
            raise ValueError(f"{where}: a DARTS-style cell takes 1 or 2 inputs, "
                             f"not {cell.n_inputs}")
        self.reduction = reduction
        self.n_inputs = cell.n_inputs
        if cell.n_inputs == 2:
            self.preprocess0 = (FactorizedReduce(c_prev_prev, C) if reduction_prev
                                else ReLUConvBN(c_prev_prev, C, 1, 1, 0))
        self.preprocess1 = ReLUConvBN(c_prev, C, 1, 1, 0)
        self.body = CellBody(cell, C, reduction, where)
        self.multiplier = self.body.multiplier

    def forward(self, s0: torch.Tensor, s1: torch.Tensor, drop_prob: float = 0.0) -> torch.Tensor:
        if self.n_inputs == 2:
            inputs = [self.preprocess0(s0), self.preprocess1(s1)]
        else:
            inputs = [self.preprocess1(s1)]
        return self.body(inputs, drop_prob)


class AuxiliaryHead(nn.Module):
    """DARTS ``AuxiliaryHeadCIFAR``; inputs other than 8..10 pixels pool adaptively to 2x2."""

    def __init__(self, C: int, classes: int, size: int) -> None:
        super().__init__()
        pool: nn.Module
        if 8 <= size <= 10:  # AvgPool(5, stride 3) gives exactly 2x2, as in DARTS
            pool = nn.AvgPool2d(5, stride=3, padding=0, count_include_pad=False)
        else:
            pool = nn.AdaptiveAvgPool2d(2)
        self.features = nn.Sequential(
            nn.ReLU(inplace=False), pool,  # not in place: the main path reuses the input
            nn.Conv2d(C, 128, 1, bias=False), nn.BatchNorm2d(128), nn.ReLU(inplace=True),
            nn.Conv2d(128, 768, 2, bias=False), nn.BatchNorm2d(768), nn.ReLU(inplace=True),
        )
        self.classifier = nn.Linear(768, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        return self.classifier(x.flatten(1))


class _CellNetworkBase(nn.Module):
    """Shared head and helpers; ``drop_path_prob`` may be scheduled by the trainer."""

    drop_path_prob: float
    global_pooling: nn.Module
    classifier: nn.Linear

    def parts(self) -> list[tuple[str, nn.Module]]:
        """The network's top-level pieces in forward order (for per-stage cost tables)."""
        raise NotImplementedError


def _out_size(size: int, reductions: int) -> int:
    for _ in range(reductions):
        size = (size + 1) // 2
    return size


class DartsNetwork(_CellNetworkBase):
    """DARTS ``NetworkCIFAR`` for any normal/reduce cell pair."""

    def __init__(self, design: CellDesign, classes: int, input_shape: tuple[int, int, int]
                 ) -> None:
        super().__init__()
        macro = design.macro
        C, layers = macro.channels, macro.layers
        reductions = sorted(set(macro.reduction_positions()))
        for r in reductions:
            if not 0 <= r < layers:
                raise ValueError(f"macro, reductions: position {r} is outside cells 0..{layers - 1}")
        normal = design.normal
        reduce = design.reduce if design.reduce is not None else design.normal
        self.auxiliary = bool(macro.auxiliary)
        self.drop_path_prob = float(macro.drop_path)
        if len(reductions) >= 2:
            self.aux_position = reductions[1]
        else:
            self.aux_position = reductions[-1] if reductions else 2 * layers // 3
        c_stem = macro.stem_multiplier * C
        self.stem = nn.Sequential(
            nn.Conv2d(input_shape[0], c_stem, 3, padding=1, bias=False), nn.BatchNorm2d(c_stem))
        c_pp, c_p, c_cur = c_stem, c_stem, C
        reduction_prev = False
        c_aux = c_p
        self.cells = nn.ModuleList()
        for i in range(layers):
            reduction = i in reductions
            if reduction:
                c_cur *= 2
            which = "reduce cell" if reduction and design.reduce is not None else "normal cell"
            cell = DartsCell(reduce if reduction else normal, c_pp, c_p, c_cur, reduction,
                             reduction_prev, where=which)
            self.cells.append(cell)
            reduction_prev = reduction
            c_pp, c_p = c_p, cell.multiplier * c_cur
            if i == self.aux_position:
                c_aux = c_p
        if self.auxiliary:
            n_red = sum(1 for r in reductions if r <= self.aux_position)
            size = _out_size(min(input_shape[1], input_shape[2]), n_red)
            self.auxiliary_head = AuxiliaryHead(c_aux, classes, size)
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_p, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        s0 = s1 = self.stem(x)
        aux = None
        for i, cell in enumerate(self.cells):
            s0, s1 = s1, cell(s0, s1, self.drop_path_prob)
            if i == self.aux_position and self.auxiliary and self.training:
                aux = self.auxiliary_head(s1)
        logits = self.classifier(self.global_pooling(s1).flatten(1))
        if aux is not None:
            return logits, aux
        return logits

    def parts(self) -> list[tuple[str, nn.Module]]:
        reductions = set(self._reduction_indices())
        out: list[tuple[str, nn.Module]] = [("stem", self.stem)]
        for i, cell in enumerate(self.cells):
            out.append((f"cell {i} ({'reduce' if i in reductions else 'normal'})", cell))
        out += [("global pool", self.global_pooling), ("classifier", self.classifier)]
        return out

    def _reduction_indices(self) -> list[int]:
        return [i for i, c in enumerate(self.cells) if c.reduction]


class ResNetBasicBlock(nn.Module):
    """NAS-Bench-201's residual reduction block between stages."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride, 1)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1, 1)
        self.downsample: nn.Module | None
        if stride == 2:
            self.downsample = nn.Sequential(
                nn.AvgPool2d(kernel_size=2, stride=2, padding=0),
                nn.Conv2d(c_in, c_out, 1, stride=1, padding=0, bias=False))
        elif c_in != c_out:
            self.downsample = ReLUConvBN(c_in, c_out, 1, 1, 0)
        else:
            self.downsample = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv_b(self.conv_a(x))
        residual = x if self.downsample is None else self.downsample(x)
        return residual + out


class NB201Cell(nn.Module):
    """A single-input cell; a 1x1 ReLU-Conv-BN adapts the input when channels differ."""

    def __init__(self, cell: Cell, c_in: int, C: int, where: str = "cell") -> None:
        super().__init__()
        if cell.n_inputs != 1:
            raise ValueError(f"{where}: the NAS-Bench-201 skeleton needs single-input cells, "
                             f"not {cell.n_inputs} inputs")
        self.preprocess = ReLUConvBN(c_in, C, 1, 1, 0) if c_in != C else None
        self.body = CellBody(cell, C, reduction=False, where=where)
        self.multiplier = self.body.multiplier

    def forward(self, x: torch.Tensor, drop_prob: float = 0.0) -> torch.Tensor:
        if self.preprocess is not None:
            x = self.preprocess(x)
        return self.body([x], drop_prob)


class NB201Network(_CellNetworkBase):
    """NAS-Bench-201 ``TinyNetwork``: 3 stages of ``layers`` cells, residual reductions."""

    def __init__(self, design: CellDesign, classes: int, input_shape: tuple[int, int, int]
                 ) -> None:
        super().__init__()
        macro = design.macro
        C, n = macro.channels, macro.layers
        self.drop_path_prob = float(macro.drop_path)
        self.stem = nn.Sequential(
            nn.Conv2d(input_shape[0], C, 3, padding=1, bias=False), nn.BatchNorm2d(C))
        self.cells = nn.ModuleList()
        c_prev = C
        for stage in range(3):
            c_stage = C * 2 ** stage
            if stage:
                self.cells.append(ResNetBasicBlock(c_prev, c_stage, 2))
                c_prev = c_stage
            for _ in range(n):
                cell = NB201Cell(design.normal, c_prev, c_stage, where="normal cell")
                self.cells.append(cell)
                c_prev = cell.multiplier * c_stage
        self.lastact = nn.Sequential(nn.BatchNorm2d(c_prev), nn.ReLU(inplace=True))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_prev, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for cell in self.cells:
            x = cell(x, self.drop_path_prob) if isinstance(cell, NB201Cell) else cell(x)
        x = self.lastact(x)
        return self.classifier(self.global_pooling(x).flatten(1))

    def parts(self) -> list[tuple[str, nn.Module]]:
        out: list[tuple[str, nn.Module]] = [("stem", self.stem)]
        k = 0
        for cell in self.cells:
            if isinstance(cell, NB201Cell):
                out.append((f"cell {k}", cell))
                k += 1
            else:
                out.append(("residual reduction", cell))
        out += [("last act", self.lastact), ("global pool", self.global_pooling),
                ("classifier", self.classifier)]
        return out


def build_cell_network(design: CellDesign, *, classes: int | None = None,
                       input_shape: tuple[int, int, int] | None = None) -> nn.Module:
    """The ``nn.Module`` for a cell design (DARTS or NAS-Bench-201 skeleton)."""
    classes = int(classes if classes is not None else design.macro.classes)
    shape = tuple(input_shape if input_shape is not None else design.macro.input_shape)
    if len(shape) != 3:
        raise ValueError(f"macro, input_shape: expected (C, H, W), got {shape}")
    if design.macro.style == "nb201":
        return NB201Network(design, classes, shape)  # type: ignore[arg-type]
    return DartsNetwork(design, classes, shape)  # type: ignore[arg-type]
