"""Architecture search: strategies (ask/tell), evaluators, constraints, Pareto fronts,
executors and the resumable search job.  Torch is imported only where training needs it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Candidate", "Constraints", "SearchConfig", "SearchJob", "Status", "Strategy",
           "make_strategy", "resume_search"]


def __getattr__(name: str) -> Any:
    if name in ("Candidate", "Status", "Strategy"):
        from engine.search import base

        return getattr(base, name)
    if name == "make_strategy":
        from engine.search.strategies import make_strategy

        return make_strategy
    if name == "Constraints":
        from engine.search.constraints import Constraints

        return Constraints
    if name in ("SearchConfig", "SearchJob", "resume_search"):
        from engine.search import job

        return getattr(job, name)
    raise AttributeError(f"module 'engine.search' has no attribute {name!r}")
