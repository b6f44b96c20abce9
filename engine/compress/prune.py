"""Pruning: unstructured magnitude sparsity and structured channel pruning (Torch-Pruning).

Structured pruning uses Torch-Pruning's dependency graph (``tp.pruner.BasePruner``), so
coupled layers (depthwise convs, concatenations, summed cell nodes, residual adds,
squeeze-excite) shrink together.  The classifier and any auxiliary head keep their
outputs.  Layers that hold parameters Torch-Pruning cannot resize are refused up front,
by name, before the model is touched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

CRITERIA = ("magnitude", "bn", "taylor")
PRUNE_KINDS = ("structured", "unstructured")

# Module types whose parameters Torch-Pruning knows how to resize.
_PRUNABLE_TYPES: tuple[type[nn.Module], ...] = (
    nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d,
    nn.Linear, nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.LayerNorm, nn.GroupNorm,
    nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d, nn.PReLU, nn.Embedding,
)


class CompressError(Exception):
    """A model or request compression cannot handle; the message names the layer."""


@dataclass
class PruneReport:
    """What a pruning step did, with figures measured on the model before and after."""

    kind: str
    ratio: float
    criterion: str | None = None
    steps: int = 1
    macs_before: int = 0
    macs_after: int = 0
    params_before: int = 0
    params_after: int = 0
    sparsity: float | None = None          # fraction of zero weights (unstructured)
    ignored: list[str] = field(default_factory=list)

    @property
    def mac_reduction(self) -> float:
        return 1.0 - self.macs_after / self.macs_before if self.macs_before else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "ratio": self.ratio, "criterion": self.criterion,
                "steps": self.steps, "macs_before": self.macs_before,
                "macs_after": self.macs_after, "params_before": self.params_before,
                "params_after": self.params_after, "mac_reduction": self.mac_reduction,
                "sparsity": self.sparsity, "ignored": list(self.ignored)}


# -- measuring ---------------------------------------------------------------------------

def count_params(model: nn.Module) -> int:
    """Number of parameters, the DARTS auxiliary head excluded (``engine.cost``'s count)."""
    try:
        from engine.cost import count_params as cost_params
    except ImportError:
        return sum(p.numel() for n, p in model.named_parameters()
                   if not n.startswith("auxiliary_head."))
    return int(cost_params(model))


def count_macs(model: nn.Module, input_shape: Sequence[int]) -> int:
    """Conv + linear multiply-adds for one sample (the torchvision convention).

    Uses ``engine.cost.count_macs`` when it is available, else an equivalent hook count.
    """
    try:
        from engine.cost import count_macs as cost_macs
    except ImportError:
        cost_macs = None
    if cost_macs is not None:
        return int(cost_macs(model, tuple(input_shape)))
    return _hook_macs(model, input_shape)


def _hook_macs(model: nn.Module, input_shape: Sequence[int]) -> int:
    total = 0

    def conv_hook(m: nn.Conv2d, _inp: Any, out: torch.Tensor) -> None:
        nonlocal total
        k = m.weight.shape[1] * m.weight.shape[2:].numel()
        total += out.numel() * k

    def linear_hook(m: nn.Linear, _inp: Any, out: torch.Tensor) -> None:
        nonlocal total
        total += out.numel() * m.in_features

    hooks = []
    for m in model.modules():
        if isinstance(m, nn.modules.conv._ConvNd):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(linear_hook))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            device = next(model.parameters()).device
            model(torch.zeros(1, *input_shape, device=device))
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    return int(total)


def weight_sparsity(model: nn.Module) -> float:
    """Fraction of exactly-zero entries in conv and linear weights."""
    zeros = total = 0
    for m in model.modules():
        if isinstance(m, nn.modules.conv._ConvNd | nn.Linear):
            zeros += int((m.weight == 0).sum())
            total += m.weight.numel()
    return zeros / total if total else 0.0


# -- finding heads and unsupported layers -------------------------------------------------

def _outputs(model: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
    out = model(x)
    return tuple(out) if isinstance(out, tuple | list) else (out,)


@contextmanager
def frozen_statistics(model: nn.Module) -> Iterator[None]:
    """Training mode (auxiliary heads run) with BN statistics restored on exit."""
    saved = [(b, b.detach().clone()) for b in model.buffers()]
    was_training = model.training
    model.train()
    try:
        yield
    finally:
        with torch.no_grad():
            for b, value in saved:
                b.copy_(value)
        model.train(was_training)


def train_mode_forward(model: nn.Module, x: torch.Tensor) -> Any:
    """Forward in training mode (so auxiliary heads run) without moving BN statistics."""
    with frozen_statistics(model):
        return model(x)


def head_layers(model: nn.Module, example: torch.Tensor) -> list[str]:
    """Names of the layers that produce the network's outputs (classifier, auxiliary head).

    A head is a linear layer whose output width equals the number of classes.
    """
    with torch.no_grad():
        outs = train_mode_forward(model, example)
    outs = tuple(outs) if isinstance(outs, tuple | list) else (outs,)
    classes = {int(o.shape[-1]) for o in outs}
    names = [n for n, m in model.named_modules()
             if isinstance(m, nn.Linear) and m.out_features in classes]
    if not names:
        # Fall back to the last linear/conv layer in registration order.
        last = [n for n, m in model.named_modules() if isinstance(m, nn.Linear | nn.Conv2d)]
        names = last[-1:]
    return names


def unsupported_layers(model: nn.Module, ignored: Iterable[str] = ()) -> list[str]:
    """Layers holding parameters that structured pruning cannot resize: ``name (Type)``."""
    ignored = tuple(ignored)
    bad = []
    for name, m in model.named_modules():
        if any(name == i or name.startswith(i + ".") for i in ignored):
            continue
        if isinstance(m, _PRUNABLE_TYPES):
            continue
        own = [pn for pn, _ in m.named_parameters(recurse=False)]
        if own:
            label = name or "<root>"
            bad.append(f"{label} ({type(m).__name__}: parameter {', '.join(own)})")
    return bad


# -- unstructured --------------------------------------------------------------------------

def prune_unstructured(model: nn.Module, amount: float, *, scope: str = "global",
                       input_shape: Sequence[int] | None = None,
                       permanent: bool = True) -> PruneReport:
    """Zero the smallest-magnitude conv/linear weights.

    ``scope="global"`` ranks all weights together, ``"layer"`` prunes each layer to
    ``amount``.  With ``permanent=False`` the masks stay attached (so fine-tuning keeps
    the zeros) until :func:`make_permanent`.  The reported sparsity is measured.
    """
    import torch.nn.utils.prune as tprune

    if not 0.0 < amount < 1.0:
        raise CompressError(f"--prune must be between 0 and 1 (exclusive), got {amount}")
    if scope not in ("global", "layer"):
        raise CompressError(f"scope must be 'global' or 'layer', got {scope!r}")
    targets = [(m, "weight") for m in model.modules()
               if isinstance(m, nn.modules.conv._ConvNd | nn.Linear)]
    if not targets:
        raise CompressError("the model has no conv or linear layers to prune")
    params = count_params(model)
    macs = count_macs(model, input_shape) if input_shape is not None else 0
    if scope == "global":
        tprune.global_unstructured(targets, pruning_method=tprune.L1Unstructured, amount=amount)
    else:
        for m, pname in targets:
            tprune.l1_unstructured(m, pname, amount=amount)
    if permanent:
        make_permanent(model)
    return PruneReport(kind="unstructured", ratio=amount, criterion=f"l1-{scope}",
                       macs_before=macs, macs_after=macs, params_before=params,
                       params_after=params, sparsity=weight_sparsity(model))


def make_permanent(model: nn.Module) -> float:
    """Fold pruning masks into the weights (``prune.remove``); returns the sparsity."""
    import torch.nn.utils.prune as tprune

    for m in model.modules():
        for hook in list(m._forward_pre_hooks.values()):
            if isinstance(hook, tprune.BasePruningMethod):
                tprune.remove(m, hook._tensor_name)
    return weight_sparsity(model)


# -- structured -----------------------------------------------------------------------------

Batch = tuple[torch.Tensor, torch.Tensor]


def _importance(criterion: str) -> Any:
    import torch_pruning as tp

    if criterion == "magnitude":
        return tp.importance.GroupMagnitudeImportance(p=2)
    if criterion == "bn":
        return tp.importance.BNScaleImportance()
    if criterion == "taylor":
        return tp.importance.GroupTaylorImportance()
    raise CompressError(f"unknown criterion {criterion!r}; choose one of {', '.join(CRITERIA)}")


def _taylor_gradients(model: nn.Module, batches: Sequence[Batch]) -> None:
    """Accumulate loss gradients on calibration batches (all heads, training-mode forward)."""
    model.zero_grad()
    for x, y in batches:
        with frozen_statistics(model):
            outs = model(x)
            outs = tuple(outs) if isinstance(outs, tuple | list) else (outs,)
            loss = sum(F.cross_entropy(o, y) for o in outs)
            loss.backward()


def prune_structured(model: nn.Module, example: torch.Tensor, ratio: float, *,
                     criterion: str = "magnitude", steps: int = 1,
                     calibration: Sequence[Batch] = (), round_to: int | None = None,
                     ignored: Sequence[str] | None = None, global_pruning: bool = False,
                     on_step: Callable[[int, int], None] | None = None) -> PruneReport:
    """Remove ``ratio`` of the channels of every prunable group, in ``steps`` iterations.

    ``example`` is one input batch (its batch size does not matter).  ``ignored`` names
    layers whose outputs are kept (default: the classifier and auxiliary head).  Taylor
    importance needs ``calibration`` batches of ``(inputs, labels)``.  Raises
    ``CompressError`` naming any layer that cannot be pruned, before the model is touched.
    """
    import torch_pruning as tp

    if not 0.0 < ratio < 1.0:
        raise CompressError(f"--prune must be between 0 and 1 (exclusive), got {ratio}")
    if steps < 1:
        raise CompressError(f"steps must be at least 1, got {steps}")
    importance = _importance(criterion)
    if criterion == "taylor" and not calibration:
        raise CompressError("Taylor importance needs calibration batches")
    if criterion == "bn" and not any(isinstance(m, nn.modules.batchnorm._BatchNorm)
                                     for m in model.modules()):
        raise CompressError("BN-scale importance needs batch-norm layers; the model has none")

    heads = list(ignored) if ignored is not None else head_layers(model, example)
    bad = unsupported_layers(model, heads)
    if bad:
        raise CompressError("cannot prune layers Torch-Pruning does not support: "
                            + "; ".join(bad))
    modules = dict(model.named_modules())
    missing = [n for n in heads if n not in modules]
    if missing:
        raise CompressError(f"no such layer to keep: {', '.join(missing)}")
    input_shape = tuple(example.shape[1:])
    with torch.no_grad():
        expected = [o.shape[1:] for o in _outputs(model.eval(), example)]
    macs0, params0 = count_macs(model, input_shape), count_params(model)

    pruner = tp.pruner.BasePruner(
        model, example, importance=importance, pruning_ratio=ratio,
        iterative_steps=steps, ignored_layers=[modules[n] for n in heads],
        round_to=round_to, global_pruning=global_pruning,
        forward_fn=train_mode_forward)
    for step in range(steps):
        if criterion == "taylor":
            _taylor_gradients(model, calibration)
        pruner.step()
        if on_step is not None:
            on_step(step + 1, steps)
    model.zero_grad(set_to_none=True)
    model.eval()
    with torch.no_grad():
        got = [o.shape[1:] for o in _outputs(model, example)]
    if got != expected:
        raise CompressError(f"pruning changed the output shapes from {expected} to {got}")
    params1 = count_params(model)
    if params1 == params0:  # Torch-Pruning skips groups it would empty: at high ratios, all
        raise CompressError(f"--prune {ratio:g} removed no channels (too small to take a "
                            "whole channel, or so large that every layer would be emptied, "
                            "which is never done); try a ratio such as 0.5")
    return PruneReport(kind="structured", ratio=ratio, criterion=criterion, steps=steps,
                       macs_before=macs0, macs_after=count_macs(model, input_shape),
                       params_before=params0, params_after=params1, ignored=heads)
