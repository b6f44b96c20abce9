"""REINFORCE with an LSTM controller (Zoph & Le 2017; NASNet, ENAS).

The controller emits one option per choice of the space, feeding the embedding of
each decision into the next LSTM step.  After each ``tell`` it takes one policy-
gradient step on ``-(reward - baseline) * log p(code) - entropy_weight * H``, where the
baseline is an exponential moving average of rewards.  Torch is imported lazily; the
whole state (weights, Adam moments, sampling generator, baseline) goes into
``state_dict`` as plain lists so a resumed search continues exactly.
"""

from __future__ import annotations

from typing import Any

from engine.arch.space import Code, SearchSpace
from engine.search.base import Candidate, Strategy


def _to_plain(obj: Any) -> Any:
    import torch

    if isinstance(obj, torch.Tensor):
        return {"__tensor__": obj.detach().cpu().reshape(-1).tolist(),
                "shape": list(obj.shape), "dtype": str(obj.dtype).removeprefix("torch.")}
    if isinstance(obj, dict):
        return {"__dict__": [[_to_plain(k), _to_plain(v)] for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        return [_to_plain(v) for v in obj]
    return obj


def _from_plain(obj: Any) -> Any:
    import torch

    if isinstance(obj, dict) and "__tensor__" in obj:
        dtype = getattr(torch, obj["dtype"])
        return torch.tensor(obj["__tensor__"], dtype=dtype).reshape(obj["shape"])
    if isinstance(obj, dict) and "__dict__" in obj:
        return {_from_plain(k): _from_plain(v) for k, v in obj["__dict__"]}
    if isinstance(obj, list):
        return [_from_plain(v) for v in obj]
    return obj


def _make_policy(sizes: tuple[int, ...], hidden: int, tanh_constant: float) -> Any:
    import torch
    from torch import nn

    class Policy(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.start = nn.Parameter(torch.zeros(1, hidden))
            self.cell = nn.LSTMCell(hidden, hidden)
            self.embeds = nn.ModuleList(nn.Embedding(n, hidden) for n in sizes)
            self.heads = nn.ModuleList(nn.Linear(hidden, n) for n in sizes)

        def forward(self, actions: list[int] | None = None,
                    generator: torch.Generator | None = None
                    ) -> tuple[list[int], torch.Tensor, torch.Tensor]:
            x, state = self.start, None
            chosen: list[int] = []
            log_prob = torch.zeros(())
            entropy = torch.zeros(())
            for i, n in enumerate(sizes):
                h, c = self.cell(x, state)
                state = (h, c)
                logits = tanh_constant * torch.tanh(self.heads[i](h)[0])
                logp = torch.log_softmax(logits, dim=-1)
                if actions is None:
                    a = int(torch.multinomial(logp.exp().detach(), 1, generator=generator))
                else:
                    a = int(actions[i])
                chosen.append(a)
                if n > 1:
                    log_prob = log_prob + logp[a]
                    entropy = entropy - (logp.exp() * logp).sum()
                x = self.embeds[i](torch.tensor([a]))
            return chosen, log_prob, entropy

    return Policy()


class Reinforce(Strategy):
    name = "reinforce"

    def __init__(self, space: SearchSpace, *, seed: int = 0, budget: int | None = None,
                 hidden: int = 64, lr: float = 0.01, baseline_decay: float = 0.9,
                 entropy_weight: float = 1e-3, tanh_constant: float = 2.5) -> None:
        super().__init__(space, seed=seed, budget=budget)
        import torch

        self.options = {"hidden": int(hidden), "lr": float(lr),
                        "baseline_decay": float(baseline_decay),
                        "entropy_weight": float(entropy_weight),
                        "tanh_constant": float(tanh_constant)}
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            self.policy = _make_policy(space.sizes(), self.options["hidden"],
                                       self.options["tanh_constant"])
        self.optimizer = torch.optim.Adam(self.policy.parameters(), lr=self.options["lr"])
        self.generator = torch.Generator().manual_seed(self.seed)
        self.baseline: float | None = None
        self.updates = 0

    def _propose(self) -> tuple[Code, None]:
        import torch

        with torch.no_grad():
            actions, _, _ = self.policy(None, self.generator)
        return tuple(actions), None

    def _observe(self, cand: Candidate, value: float | None) -> None:
        if value is None:
            return
        if self.baseline is None:
            self.baseline = value
            return
        advantage = value - self.baseline
        self.baseline = self.options["baseline_decay"] * self.baseline + \
            (1 - self.options["baseline_decay"]) * value
        _, log_prob, entropy = self.policy(list(cand.code))
        loss = -advantage * log_prob - self.options["entropy_weight"] * entropy
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self.updates += 1

    def probabilities(self) -> list[list[float]]:
        """The policy's option probabilities per choice along its most likely path."""
        import torch

        with torch.no_grad():
            x, state, out = self.policy.start, None, []
            for i in range(len(self.space.sizes())):
                state = self.policy.cell(x, state)
                logits = self.options["tanh_constant"] * torch.tanh(
                    self.policy.heads[i](state[0])[0])
                p = torch.softmax(logits, -1)
                out.append(p.tolist())
                x = self.policy.embeds[i](p.argmax().reshape(1))
        return out

    def _extra_state(self) -> dict[str, Any]:
        return {"options": self.options, "baseline": self.baseline, "updates": self.updates,
                "policy": _to_plain(self.policy.state_dict()),
                "optimizer": _to_plain(self.optimizer.state_dict()),
                "generator": self.generator.get_state().tolist()}

    def _load_extra(self, state: dict[str, Any]) -> None:
        import torch

        self.baseline = state["baseline"]
        self.updates = int(state["updates"])
        self.policy.load_state_dict(_from_plain(state["policy"]))
        self.optimizer.load_state_dict(_from_plain(state["optimizer"]))
        self.generator.set_state(torch.tensor(state["generator"], dtype=torch.uint8))
