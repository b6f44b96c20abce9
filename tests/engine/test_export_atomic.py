"""Exports are atomic: a process killed while writing leaves the previous good output
and an artifacts row that matches it (issue 11: torn ONNX, 0-byte TorchScript, bundle
folder with a 0-byte weights file)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from engine.export import export_run, file_digest, load_bundle
from engine.export.atomic import atomic_file, atomic_folder, remove_stale, temp_sibling
from engine.store import Store
from tests.stored_run import add_stored_run

ROOT = Path(__file__).resolve().parents[2]
TARGETS = {"onnx": "m.onnx", "torchscript": "m.pt", "bundle": "b", "bundle-zip": "b.zip"}

# One interpreter imports and warms up everything, then forks one child per format; each
# child may not write a file beyond LIMIT bytes and dies of SIGXFSZ (as kill -9 would:
# no cleanup runs) part-way through writing the export.
CHILD = textwrap.dedent("""
    import json, os, resource, signal, sys
    from engine.compress.runs import load_run
    from engine.export import export_run
    from engine.store import Store
    db, run_id, jobs, scratch = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3]), sys.argv[4]
    with Store(db) as store:  # warm-up: every lazily imported exporter module is loaded
        loaded = load_run(store, run_id)
        for fmt, _path, _limit in jobs:
            export_run(store, run_id, fmt.split("-")[0],
                       os.path.join(scratch, "warm-" + os.path.basename(_path)), loaded)
    status = {}
    for fmt, path, limit in jobs:
        pid = os.fork()
        if pid == 0:
            try:
                signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
                resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
                store = Store(db)
                loaded = load_run(store, run_id)
                resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
                export_run(store, run_id, fmt.split("-")[0], path, loaded, force=True)
            finally:
                os._exit(3)  # not killed: the export finished or raised
        status[fmt] = os.waitpid(pid, 0)[1]
    print(json.dumps({k: os.WTERMSIG(v) if os.WIFSIGNALED(v) else -os.WEXITSTATUS(v)
                      for k, v in status.items()}))
""")


def _big_file(path: Path) -> int:
    return max(p.stat().st_size for p in ([path] if path.is_file() else path.iterdir()))


@pytest.mark.skipif(sys.platform == "win32", reason="fork and RLIMIT_FSIZE are POSIX")
def test_a_kill_while_re_exporting_keeps_the_old_output_and_its_record(tmp_path):
    db = tmp_path / "experiments.db"
    out = tmp_path / "out"
    with Store(db) as store:
        run_id, _ckpt = add_stored_run(store)
        _other, _ = add_stored_run(store, seed=1)
        good = {}
        for fmt, name in TARGETS.items():
            export_run(store, run_id, fmt.split("-")[0], out / name)
            good[fmt] = file_digest(out / name)
    # re-export other weights over each output, killed half-way through its largest file
    jobs = [(fmt, str(out / name), _big_file(out / name) // 2)
            for fmt, name in TARGETS.items()]
    (tmp_path / "scratch").mkdir()
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run([sys.executable, "-c", CHILD, str(db), str(_other), json.dumps(jobs),
                           str(tmp_path / "scratch")], env=env, capture_output=True,
                          text=True, timeout=600, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    killed = json.loads(proc.stdout.strip().splitlines()[-1])
    assert killed == {fmt: signal.SIGXFSZ for fmt in TARGETS}, proc.stderr[-3000:]
    with Store(db) as store:
        rows = {a["path"]: a for a in store.artifacts(run_id) + store.artifacts(_other)}
    for fmt, name in TARGETS.items():
        path = out / name
        assert file_digest(path) == good[fmt], f"{fmt}: the previous export was damaged"
        row = rows[str(path.resolve())]
        assert (row["run_id"], row["sha256"], row["bytes"]) == (run_id, *good[fmt]), fmt
        # the killed export's half-written temporary is there; the next export removes it
        stale = [p for p in out.iterdir() if re.match(rf"\.{re.escape(name)}\.\d+\.tmp", p.name)]
        assert len(stale) == 1, (fmt, stale)
    _d, model, meta = load_bundle(out / "b")
    assert meta["run_id"] == run_id
    with Store(db) as store:
        for fmt, name in TARGETS.items():
            details = export_run(store, _other, fmt.split("-")[0], out / name, force=True)
            assert details["verified"]
            assert file_digest(out / name) == (details["sha256"], details["bytes"])
            assert store.artifacts(_other)[-1]["sha256"] == details["sha256"]
    assert sorted(p.name for p in out.iterdir()) == sorted(TARGETS.values())


def test_a_failure_inside_the_write_leaves_the_destination_alone(tmp_path):
    target = tmp_path / "model.onnx"
    target.write_bytes(b"old and good")
    with pytest.raises(RuntimeError), atomic_file(target) as tmp:
        tmp.write_bytes(b"torn")
        raise RuntimeError("exporter died")
    assert target.read_bytes() == b"old and good"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]
    folder = tmp_path / "bundle"
    folder.mkdir()
    (folder / "weights.safetensors").write_bytes(b"old weights")
    with pytest.raises(RuntimeError), atomic_folder(folder) as tmp:
        (tmp / "weights.safetensors").write_bytes(b"")
        raise RuntimeError("killed")
    assert (folder / "weights.safetensors").read_bytes() == b"old weights"
    with atomic_folder(folder) as tmp:
        (tmp / "weights.safetensors").write_bytes(b"new weights")
    assert [p.name for p in folder.iterdir()] == ["weights.safetensors"]
    assert (folder / "weights.safetensors").read_bytes() == b"new weights"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle", "model.onnx"]


def test_a_swap_cut_short_is_put_back(tmp_path, monkeypatch):
    """Where folders cannot be exchanged in one step, the old folder is set aside first;
    a kill right then leaves it under a temporary name, restored by the next export."""
    folder = tmp_path / "bundle"
    folder.mkdir()
    (folder / "metadata.json").write_text("old")
    aside = temp_sibling(folder, "old").with_name(temp_sibling(folder, "old").name.replace(
        str(os.getpid()), "2147483647"))  # as if set aside by a process now dead
    folder.rename(aside)
    remove_stale(folder)
    assert (folder / "metadata.json").read_text() == "old" and not aside.exists()
