"""Differentiable one-shot search in the DARTS style (Liu et al. 2019), first order.

A supernet puts a ``MixedOp`` (every op of the space, built from the op registry's
factories, mixed by ``softmax(alpha)``) on each edge of the DARTS cell.  Training
alternates an Adam step on the architecture weights ``alpha`` (one half of the
training split) with an SGD step on the network weights (the other half).  The
genotype keeps, per node, the two incoming edges with the strongest non-``none`` op,
and is returned as an ordinary ``CellDesign`` of the darts space: the strategy asks
it as its one candidate, which the search then trains and records like any other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.arch.model import Cell, CellDesign, Edge
from engine.arch.space import Code, DartsSpace, SearchSpace
from engine.ops import registry
from engine.search.base import Status, Strategy


def _supernet_classes() -> tuple[type, type, type]:
    import torch
    from torch import nn

    from engine.ops.torch_ops import FactorizedReduce, ReLUConvBN

    class MixedOp(nn.Module):
        def __init__(self, ops: tuple[str, ...], C: int, stride: int) -> None:
            super().__init__()
            mods = []
            for name in ops:
                op = registry.get(name).resolve()(C, stride, affine=False)
                if registry.get(name).family == "pool":
                    op = nn.Sequential(op, nn.BatchNorm2d(C, affine=False))
                mods.append(op)
            self.ops = nn.ModuleList(mods)

        def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
            return sum(w * op(x) for w, op in zip(weights, self.ops, strict=True))

    class SearchCell(nn.Module):
        def __init__(self, ops: tuple[str, ...], steps: int, c_pp: int, c_p: int, C: int,
                     reduction: bool, reduction_prev: bool) -> None:
            super().__init__()
            self.reduction = reduction
            self.pre0 = FactorizedReduce(c_pp, C, affine=False) if reduction_prev else \
                ReLUConvBN(c_pp, C, 1, 1, 0, affine=False)
            self.pre1 = ReLUConvBN(c_p, C, 1, 1, 0, affine=False)
            self.steps = steps
            self.edges = nn.ModuleList(
                MixedOp(ops, C, 2 if reduction and j < 2 else 1)
                for i in range(steps) for j in range(2 + i))

        def forward(self, s0: torch.Tensor, s1: torch.Tensor,
                    weights: torch.Tensor) -> torch.Tensor:
            states = [self.pre0(s0), self.pre1(s1)]
            offset = 0
            for _ in range(self.steps):
                s = sum(self.edges[offset + j](h, weights[offset + j])
                        for j, h in enumerate(states))
                offset += len(states)
                states.append(s)
            return torch.cat(states[2:], dim=1)

    class SuperNet(nn.Module):
        def __init__(self, space: DartsSpace, input_shape: tuple[int, ...], classes: int,
                     generator: torch.Generator) -> None:
            super().__init__()
            m = space.macro
            C, steps, ops = m.channels, space.nodes, space.ops
            c_curr = m.stem_multiplier * C
            self.stem = nn.Sequential(nn.Conv2d(input_shape[0], c_curr, 3, padding=1,
                                                bias=False), nn.BatchNorm2d(c_curr))
            c_pp, c_p, c_curr = c_curr, c_curr, C
            reductions = set(m.reduction_positions())
            cells, reduction_prev = [], False
            for i in range(m.layers):
                reduction = i in reductions
                if reduction:
                    c_curr *= 2
                cells.append(SearchCell(ops, steps, c_pp, c_p, c_curr, reduction,
                                        reduction_prev))
                reduction_prev = reduction
                c_pp, c_p = c_p, steps * c_curr
            self.cells = nn.ModuleList(cells)
            self.classifier = nn.Linear(c_p, classes)
            k = sum(2 + i for i in range(steps))
            self.alpha_normal = nn.Parameter(1e-3 * torch.randn(k, len(ops), generator=generator))
            self.alpha_reduce = nn.Parameter(1e-3 * torch.randn(k, len(ops), generator=generator))

        def arch_parameters(self) -> list[nn.Parameter]:
            return [self.alpha_normal, self.alpha_reduce]

        def weight_parameters(self) -> list[nn.Parameter]:
            arch = {id(p) for p in self.arch_parameters()}
            return [p for p in self.parameters() if id(p) not in arch]

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            s0 = s1 = self.stem(x)
            wn = torch.softmax(self.alpha_normal, dim=-1)
            wr = torch.softmax(self.alpha_reduce, dim=-1)
            for cell in self.cells:
                s0, s1 = s1, cell(s0, s1, wr if cell.reduction else wn)
            return self.classifier(s1.mean(dim=(2, 3)))

    return MixedOp, SearchCell, SuperNet


def derive_cell(weights: list[list[float]], ops: tuple[str, ...], steps: int) -> Cell:
    """DARTS ``_parse``: per node the two inputs whose best non-``none`` op is strongest."""
    edges: list[Edge] = []
    start = 0
    for i in range(steps):
        node = 2 + i
        rows = weights[start:start + node]
        start += node

        def best(row: list[float]) -> tuple[float, int]:
            return max((w, k) for k, w in enumerate(row) if ops[k] != "none")

        ranked = sorted(range(node), key=lambda j: -best(rows[j])[0])[:2]
        for j in sorted(ranked):
            edges.append(Edge(j, node, ops[best(rows[j])[1]]))
    nodes = [2 + i for i in range(steps)]
    return Cell(n_inputs=2, nodes=nodes, edges=edges, concat=list(nodes))


def search_supernet(space: DartsSpace, splits: Any, *, epochs: int = 1, batch_size: int = 64,
                    lr: float = 0.025, arch_lr: float = 3e-4, seed: int = 0,
                    subset: int | None = None, token: Any = None,
                    device: str | None = None,
                    progress: Callable[[float, str], None] | None = None
                    ) -> tuple[CellDesign, dict[str, Any]]:
    """Run the first-order one-shot search; returns (derived design, alphas and losses).

    ``token.check()`` runs before every step; ``progress(fraction, message)`` about a
    hundred times over the search."""
    import torch
    from torch import nn

    from engine.device import pick_device

    *_, SuperNet = _supernet_classes()
    dev = pick_device(device)
    gen = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = SuperNet(space, tuple(splits.input_shape), int(splits.classes), gen).to(dev)
    x, y = splits.train.x, splits.train.y
    order = torch.randperm(len(y), generator=gen)
    if subset:
        order = order[:int(subset)]
    half = len(order) // 2
    if half < 1:
        raise ValueError("darts one-shot: the training split is too small to halve")
    x_w, y_w = x[order[:half]].to(dev), y[order[:half]].to(dev)
    x_a, y_a = x[order[half:2 * half]].to(dev), y[order[half:2 * half]].to(dev)
    w_opt = torch.optim.SGD(net.weight_parameters(), lr=lr, momentum=0.9, weight_decay=3e-4)
    a_opt = torch.optim.Adam(net.arch_parameters(), lr=arch_lr, betas=(0.5, 0.999),
                             weight_decay=1e-3)
    steps = max(1, (half + batch_size - 1) // batch_size)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(w_opt, epochs * steps, eta_min=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    net.train()
    total = epochs * steps
    every = max(1, total // 100)
    for epoch in range(epochs):
        pw = torch.randperm(half, generator=gen)
        pa = torch.randperm(half, generator=gen)
        for s in range(steps):
            if token is not None:
                token.check()
            done = epoch * steps + s
            if progress is not None and done % every == 0:
                progress(done / total, f"darts supernet: step {done + 1}/{total}")
            ia = pa[s * batch_size:(s + 1) * batch_size].to(dev)
            a_opt.zero_grad()
            loss_fn(net(x_a[ia]), y_a[ia]).backward()
            a_opt.step()
            if token is not None:   # a supernet step is slow: check between its halves
                token.check()
            iw = pw[s * batch_size:(s + 1) * batch_size].to(dev)
            w_opt.zero_grad()
            loss = loss_fn(net(x_w[iw]), y_w[iw])
            loss.backward()
            nn.utils.clip_grad_norm_(net.weight_parameters(), 5.0)
            w_opt.step()
            sched.step()
            losses.append(float(loss.detach()))
    wn = torch.softmax(net.alpha_normal.detach().cpu(), -1).tolist()
    wr = torch.softmax(net.alpha_reduce.detach().cpu(), -1).tolist()
    base = space.decode([0] * len(space.choices()))
    design = CellDesign(name="darts-oneshot", normal=derive_cell(wn, space.ops, space.nodes),
                        reduce=derive_cell(wr, space.ops, space.nodes), macro=base.macro)
    return design, {"alpha_normal": wn, "alpha_reduce": wr, "losses": losses}


class DartsOneShot(Strategy):
    """Asks exactly one candidate: the genotype derived from a one-shot supernet search."""

    name = "darts"

    def __init__(self, space: SearchSpace, *, seed: int = 0, budget: int | None = None,
                 evaluator: Any = None, splits: Any = None, search_epochs: int = 1,
                 batch_size: int = 64, lr: float = 0.025, arch_lr: float = 3e-4,
                 subset: int | None = None) -> None:
        super().__init__(space, seed=seed, budget=budget)
        if not isinstance(space, DartsSpace):
            raise ValueError("darts one-shot search needs the darts cell space")
        if splits is None and evaluator is not None and hasattr(evaluator, "splits"):
            splits = evaluator.splits()
        if splits is None:
            raise ValueError("darts one-shot search needs a dataset to train the supernet")
        self.splits = splits
        self.options = {"search_epochs": int(search_epochs), "batch_size": int(batch_size),
                        "lr": float(lr), "arch_lr": float(arch_lr), "subset": subset}
        if subset is None and evaluator is not None:
            self.options["subset"] = getattr(evaluator, "subset", None)
        self.derived: Code | None = None
        self.alphas: dict[str, Any] | None = None

    @property
    def status(self) -> Status:
        return Status.DONE if self.asked >= 1 else Status.RUNNING

    def _propose(self) -> tuple[Code, None]:
        if self.derived is None:
            o = self.options
            design, info = search_supernet(self.space, self.splits, epochs=o["search_epochs"],
                                           batch_size=o["batch_size"], lr=o["lr"],
                                           arch_lr=o["arch_lr"], seed=self.seed,
                                           subset=o["subset"], token=self.token,
                                           progress=self.progress)
            self.derived = self.space.encode(design)
            self.alphas = {k: info[k] for k in ("alpha_normal", "alpha_reduce")}
        return self.derived, None

    def _extra_state(self) -> dict[str, Any]:
        return {"options": self.options, "alphas": self.alphas,
                "derived": None if self.derived is None else list(self.derived)}

    def _load_extra(self, state: dict[str, Any]) -> None:
        self.alphas = state.get("alphas")
        self.derived = None if state.get("derived") is None else tuple(state["derived"])
