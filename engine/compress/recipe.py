"""What a compression request asks for, validated, and the recipe JSON each step records."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from engine.compress.prune import CRITERIA, PRUNE_KINDS, CompressError
from engine.compress.quantize import QUANT_FORMATS, QUANT_MODES


@dataclass
class CompressOptions:
    """One compression request: an optional pruning step, then an optional quantization.

    Each step becomes its own run in the store (prune: child of the source run;
    quantize: child of the pruned run, or of the source when nothing was pruned).
    """

    prune: float | None = None               # channel ratio (structured) or sparsity
    prune_kind: str = "structured"
    criterion: str = "magnitude"
    steps: int = 1                           # iterative pruning steps
    scope: str = "global"                    # unstructured: "global" or "layer"
    round_to: int | None = None              # structured: keep channel counts multiples
    quantize: str | None = None              # "int8" | "int8-dynamic" | "qat"
    quant_format: str = "qdq"                # static int8: "qdq" or "qoperator"
    finetune_epochs: int = 0
    finetune_lr: float = 0.01
    patience: int | None = 3
    distill: bool = False
    temperature: float = 4.0
    alpha: float = 0.5
    calibration_batches: int = 8
    calibration_batch_size: int = 32
    latency_batch: int = 1
    latency_threads: int = 1
    latency_repeats: int = 50
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise CompressError("; ".join(problems))

    def problems(self) -> list[str]:
        """Human-readable problems with these options (empty when valid)."""
        out = []
        if self.prune is None and self.quantize is None:
            out.append("nothing to do: give --prune RATIO and/or --quantize MODE")
        if self.prune is not None and not 0.0 < float(self.prune) < 1.0:
            out.append(f"--prune must be between 0 and 1 (exclusive), got {self.prune}")
        if self.prune_kind not in PRUNE_KINDS:
            out.append(f"--prune-kind must be one of {', '.join(PRUNE_KINDS)}, "
                       f"got {self.prune_kind!r}")
        if self.criterion not in CRITERIA:
            out.append(f"--criterion must be one of {', '.join(CRITERIA)}, "
                       f"got {self.criterion!r}")
        if self.quantize is not None and self.quantize not in QUANT_MODES:
            out.append(f"--quantize must be one of {', '.join(QUANT_MODES)}, "
                       f"got {self.quantize!r}")
        if self.quant_format not in QUANT_FORMATS:
            out.append(f"--quant-format must be one of {', '.join(QUANT_FORMATS)}, "
                       f"got {self.quant_format!r}")
        if self.scope not in ("global", "layer"):
            out.append(f"scope must be 'global' or 'layer', got {self.scope!r}")
        for name in ("steps", "calibration_batches", "calibration_batch_size",
                     "latency_batch", "latency_threads", "latency_repeats"):
            if int(getattr(self, name)) < 1:
                out.append(f"{name.replace('_', '-')} must be at least 1, "
                           f"got {getattr(self, name)}")
        if self.finetune_epochs < 0:
            out.append(f"--finetune-epochs must be >= 0, got {self.finetune_epochs}")
        if self.quantize == "qat" and self.finetune_epochs < 1:
            out.append("--quantize qat trains with fake quantization: give --finetune-epochs N")
        if self.distill and self.finetune_epochs < 1:
            out.append("--distill needs --finetune-epochs N (distillation is a fine-tuning)")
        if self.patience is not None and self.patience < 1:
            out.append(f"--patience must be >= 1 (or 0 for none), got {self.patience}")
        if not self.finetune_lr > 0:
            out.append(f"--finetune-lr must be > 0, got {self.finetune_lr}")
        if self.temperature <= 0:
            out.append(f"--temperature must be > 0, got {self.temperature}")
        if not 0.0 <= self.alpha <= 1.0:
            out.append(f"--alpha must be in [0, 1], got {self.alpha}")
        if self.round_to is not None and self.round_to < 1:
            out.append(f"round-to must be >= 1, got {self.round_to}")
        return out

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, obj: dict[str, Any]) -> CompressOptions:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in obj.items() if k in names})

    def calibration_size(self) -> int:
        return self.calibration_batches * self.calibration_batch_size


def prune_recipe(opts: CompressOptions, report: dict[str, Any], fmt: str) -> dict[str, Any]:
    """Recipe JSON of a pruning step (what the store's ``recipe`` column holds)."""
    structured = opts.prune_kind == "structured"
    return {
        "method": f"prune-{opts.prune_kind}", "ratio": opts.prune,
        "criterion": opts.criterion if structured else f"l1-{opts.scope}",
        "steps": opts.steps if structured else 1, "round_to": opts.round_to,
        "calibration_size": opts.calibration_size() if opts.criterion == "taylor" else 0,
        "finetune_epochs": opts.finetune_epochs, "finetune_lr": opts.finetune_lr,
        "distill": opts.distill, "temperature": opts.temperature if opts.distill else None,
        "format": fmt, "mac_reduction": report.get("mac_reduction"),
        "sparsity": report.get("sparsity"), "ignored_layers": report.get("ignored", []),
    }


def quantize_recipe(opts: CompressOptions, details: dict[str, Any]) -> dict[str, Any]:
    """Recipe JSON of a quantization step."""
    method = {"int8": "quantize-int8-static", "int8-dynamic": "quantize-int8-dynamic",
              "qat": "quantize-int8-qat"}[str(opts.quantize)]
    return {"method": method, "calibration_size": details.get("calibration_size", 0),
            "finetune_epochs": opts.finetune_epochs if opts.quantize == "qat" else 0,
            "format": "onnx-int8", **details}
