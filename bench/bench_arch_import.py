"""Import time of ``engine.arch`` in a fresh interpreter, against ``import json``.

    python bench/bench_arch_import.py [--runs 7]

Each figure is the median over ``--runs`` fresh subprocesses of the time the import
statement takes inside the child (interpreter start-up excluded).  Also reports
whether torch got imported and the cost of a first real use (``resolve_source`` of a
preset, which loads the presets, validator and registry).  Target: engine.arch under
100 ms, torch not imported.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import sys, time
t0 = time.perf_counter()
{stmt}
t1 = time.perf_counter()
{use}
t2 = time.perf_counter()
import json as _j
print(_j.dumps({{"import_ms": (t1 - t0) * 1e3, "use_ms": (t2 - t1) * 1e3,
                 "torch": "torch" in sys.modules}}))
"""


def measure(stmt: str, use: str, runs: int, env: dict[str, str]) -> dict[str, float | bool]:
    rows = []
    for i in range(runs + 1):  # the first run only fills the bytecode cache
        out = subprocess.run([sys.executable, "-c", CHILD.format(stmt=stmt, use=use)],
                             cwd=ROOT, capture_output=True, text=True, check=True, env=env)
        if i:
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {"import_ms": statistics.median(r["import_ms"] for r in rows),
            "min_ms": min(r["import_ms"] for r in rows),
            "use_ms": statistics.median(r["use_ms"] for r in rows),
            "torch": any(r["torch"] for r in rows)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--no-bytecode", action="store_true",
                        help="compile from source every time (PYTHONDONTWRITEBYTECODE)")
    args = parser.parse_args()
    cache = tempfile.TemporaryDirectory(prefix="nas-studio-pyc-")
    env = dict(os.environ)
    if args.no_bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    else:  # an installed app has .pyc files; a private cache gives the same without litter
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = cache.name
    base = measure("import json", "json.dumps({'a': 1})", args.runs, env)
    arch = measure("import engine.arch", "engine.arch.resolve_source('darts-v2')", args.runs, env)
    full = measure("import engine.arch.sources, engine.arch.serialize, engine.arch.genotype, "
                   "engine.arch.nb201, engine.arch.timm_blocks, engine.arch.scaling",
                   "pass", args.runs, env)
    cache.cleanup()
    mode = "compiled from source" if args.no_bytecode else "with bytecode caches"
    print(f"median of {args.runs} fresh interpreters, {mode} (import statement only)")
    print(f"  import json (baseline)          {base['import_ms']:8.2f} ms   "
          f"(fastest run {base['min_ms']:.2f} ms)")
    print(f"  import engine.arch              {arch['import_ms']:8.2f} ms   "
          f"ratio {arch['import_ms'] / base['import_ms']:.1f}x baseline   "
          f"(fastest run {arch['min_ms']:.2f} ms)")
    print(f"  + first resolve_source(preset)  {arch['use_ms']:8.2f} ms")
    print(f"  import all engine.arch codecs   {full['import_ms']:8.2f} ms   "
          f"ratio {full['import_ms'] / base['import_ms']:.1f}x baseline   "
          f"(fastest run {full['min_ms']:.2f} ms)")
    torch = arch["torch"] or full["torch"]
    print(f"  torch imported: {'YES' if torch else 'no'}")
    worst = max(arch["import_ms"], full["import_ms"])
    print(f"  target (every engine.arch module imports in < 100 ms, torch not imported): "
          f"{'met' if worst < 100 and not torch else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
