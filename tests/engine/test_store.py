"""The SQLite experiment store: migrations, one writer, crash recovery, bad files."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sqlite_utils

from engine.arch.presets import get_preset
from engine.store import Store, StoreError
from engine.store.migrations import MIGRATIONS

ENV = {"python": "test"}  # skip the torch import of the real capture in most tests


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "experiments.db"


@pytest.fixture
def store(db_path: Path):
    s = Store(db_path)
    yield s
    s.close()


def _run(store: Store, design: str = "darts-v2", **kw) -> tuple[int, int, str]:
    h = store.add_design(get_preset(design))
    exp = store.create_experiment("train", {"lr": 0.1}, seed=0, environment=ENV)
    return exp, store.create_run(exp, h, **kw), h


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_migrations_recorded_and_idempotent_on_reopen(db_path: Path) -> None:
    with Store(db_path) as s:
        first = s.query("SELECT * FROM _migrations ORDER BY id")
        assert s.schema_version() == len(MIGRATIONS)
    assert [r["id"] for r in first] == list(range(1, len(MIGRATIONS) + 1))
    assert [r["name"] for r in first] == [name for name, _ in MIGRATIONS]
    with Store(db_path) as s:
        assert s.query("SELECT * FROM _migrations ORDER BY id") == first
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_new_migration_applies_once_in_order(db_path: Path) -> None:
    Store(db_path).close()
    calls = []

    def m3(db):
        calls.append(3)
        db["notes"].create({"id": int, "text": str}, pk="id")

    extended = [*MIGRATIONS, ("notes", m3)]
    with Store(db_path, migrations=extended) as s:
        assert s.schema_version() == len(MIGRATIONS) + 1
    with Store(db_path, migrations=extended):
        pass
    assert calls == [3]


def test_newer_schema_is_refused(db_path: Path) -> None:
    Store(db_path).close()
    conn = sqlite3.connect(db_path)
    conn.execute("INSERT INTO _migrations (id, name, applied) VALUES (99, 'future', 'x')")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="schema version 99, newer than"):
        Store(db_path)


@pytest.mark.parametrize("content", [b"run,accuracy\n1,0.9\n", os.urandom(4096),
                                     b"SQLite format 3\x00" + b"\xff" * 200])
def test_not_sqlite_file_is_refused_and_untouched(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(content)
    with pytest.raises(StoreError, match=r"notes\.db is not a NAS Studio database \(not SQLite\)"):
        Store(path)
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.db"]


def test_foreign_sqlite_database_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE contacts (name TEXT)")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="another application.*contacts"):
        Store(path)
    assert path.read_bytes() == before


def test_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="is a directory"):
        Store(tmp_path)


def test_default_path_is_in_the_data_dir(_private_data_dir: Path) -> None:
    with Store() as s:
        assert s.path == _private_data_dir / "experiments.db"
        assert Store.default_path() == s.path
    assert (_private_data_dir / "experiments.db").exists()


def test_writes_from_many_threads_all_land(store: Store) -> None:
    h = store.add_design(get_preset("darts-v2"))
    exp = store.create_experiment("search", {}, environment=ENV)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            run_id = store.create_run(exp, h, kind="search")
            for epoch in range(1, 21):
                store.add_epoch(run_id, epoch, val_accuracy=epoch / 20)
                assert store.epochs(run_id)[-1]["epoch"] == epoch  # read-your-write
            store.update_run(run_id, status="finished", best_val_accuracy=1.0)
            store.add_trial(exp, n, run_id=run_id, metrics={"accuracy": 1.0})
        except BaseException as exc:  # noqa: BLE001 - checked in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    runs = store.runs(exp)
    assert len(runs) == 6 and all(r.status == "finished" for r in runs)
    assert all(r.epochs_done == 20 for r in runs)
    assert store.query("SELECT COUNT(*) AS n FROM epochs")[0]["n"] == 120
    assert [t.trial for t in store.trials(exp)] == list(range(6))


def test_write_errors_reach_the_calling_thread(store: Store) -> None:
    caught: list[BaseException] = []

    def worker() -> None:
        try:
            store.add_epoch(12345, 1, val_accuracy=0.5)
        except StoreError as exc:
            caught.append(exc)

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    assert [str(e) for e in caught] == ["unknown run id 12345"]
    _, run_id, _ = _run(store)  # the writer keeps working after an error
    assert store.get_run(run_id).status == "running"


def test_reopen_after_close_keeps_everything(db_path: Path) -> None:
    with Store(db_path) as s:
        exp, run_id, h = _run(s, recipe={"prune": 0.5})
        s.add_epochs([{"run_id": run_id, "epoch": e, "train_loss": 1 / e} for e in (1, 2, 3)])
        s.update_run(run_id, status="finished", params=123, test_accuracy=0.97)
        s.add_artifact(run_id, "onnx", "/x/model.onnx", "ab" * 32, 1000, True, {"diff": 1e-6})
        s.save_search_state(exp, {"population": [1, 2]})
    with Store(db_path) as s:
        run = s.get_run(run_id)
        assert (run.params, run.test_accuracy, run.recipe) == (123, 0.97, {"prune": 0.5})
        assert [e["epoch"] for e in s.epochs(run_id)] == [1, 2, 3]
        assert s.get_design(h) == get_preset("darts-v2")
        assert s.artifacts(run_id)[0]["details"] == {"diff": 1e-6}
        assert s.load_search_state(exp) == {"population": [1, 2]}
    with pytest.raises(StoreError, match="closed"):
        s.add_epoch(run_id, 4)
    with pytest.raises(StoreError, match="closed"):
        s.epochs(run_id)


def test_mark_interrupted_only_touches_dead_owners(store: Store, db_path: Path) -> None:
    exp, dead, h = _run(store)
    alive_other = store.create_run(exp, h)
    mine = store.create_run(exp, h)
    remote = store.create_run(exp, h)
    done = store.create_run(exp, h)
    store.update_run(done, status="finished")
    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute("UPDATE runs SET pid = ? WHERE id = ?", [_dead_pid(), dead])
        conn.execute("UPDATE runs SET pid = ? WHERE id = ?", [os.getppid(), alive_other])
        conn.execute("UPDATE runs SET pid = 1, host = 'elsewhere' WHERE id = ?", [remote])
        conn.execute("UPDATE experiments SET pid = ? WHERE id = ?", [_dead_pid(), exp])
    conn.close()
    assert store.mark_interrupted() == [dead]
    status = {r.id: r.status for r in store.runs()}
    assert status == {dead: "interrupted", alive_other: "running", mine: "running",
                      remote: "running", done: "finished"}
    assert store.get_run(dead).finished is not None
    assert store.get_experiment(exp).status == "interrupted"
    assert store.mark_interrupted() == []
    store.update_run(dead, status="running")  # resume claims the run for this process
    assert store.get_run(dead).pid == os.getpid()
    assert store.get_run(dead).host == socket.gethostname()


def test_unknown_ids_raise_clear_errors(store: Store) -> None:
    with pytest.raises(StoreError, match=r"^unknown run id 42$"):
        store.get_run(42)
    with pytest.raises(StoreError, match=r"^unknown experiment id 7$"):
        store.get_experiment(7)
    for call in (lambda: store.update_run(42, status="failed"),
                 lambda: store.add_epoch(42, 1), lambda: store.add_artifact(42, "onnx", "x")):
        with pytest.raises(StoreError, match="unknown run id 42"):
            call()
    for call in (lambda: store.delete_experiment(7), lambda: store.rename_experiment(7, "x"),
                 lambda: store.finish_experiment(7), lambda: store.add_trial(7, 0),
                 lambda: store.save_search_state(7, {})):
        with pytest.raises(StoreError, match="unknown experiment id 7"):
            call()
    with pytest.raises(StoreError, match="unknown design hash abc"):
        store.get_design("abc")
    with pytest.raises(StoreError, match="unknown design hash abc"):
        store.create_run(None, "abc")


def test_bad_fields_and_statuses(store: Store) -> None:
    _, run_id, _ = _run(store)
    with pytest.raises(StoreError, match="unknown field.*accuracy"):
        store.update_run(run_id, accuracy=0.5)
    with pytest.raises(StoreError, match="unknown status 'done'"):
        store.update_run(run_id, status="done")
    with pytest.raises(StoreError, match="unknown metric.*acc"):
        store.add_epoch(run_id, 1, acc=0.5)
    assert store.epochs(run_id) == []


def test_epochs_are_idempotent_per_epoch_and_ordered(store: Store) -> None:
    _, run_id, _ = _run(store)
    store.add_epochs([{"run_id": run_id, "epoch": e, "val_accuracy": 0.1 * e} for e in (3, 1, 2)])
    store.add_epoch(run_id, 2, val_accuracy=0.99, lr=0.05)  # a resumed run re-writes epoch 2
    rows = store.epochs(run_id)
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    assert (rows[1]["val_accuracy"], rows[1]["lr"]) == (0.99, 0.05)
    assert store.get_run(run_id).epochs_done == 3
    assert store.add_epochs([]) == 0
    with pytest.raises(StoreError, match="unknown run id 999"):  # all or nothing
        store.add_epochs([{"run_id": run_id, "epoch": 4}, {"run_id": 999, "epoch": 1}])
    with pytest.raises(StoreError, match="has no 'epoch'"):
        store.add_epochs([{"run_id": run_id}])
    assert [r["epoch"] for r in store.epochs(run_id)] == [1, 2, 3]
    np = pytest.importorskip("numpy")
    store.add_epoch(run_id, 4, val_accuracy=np.float32(0.5), seconds=np.int64(3),
                    lr=float("nan"))
    last = store.epochs(run_id)[-1]
    assert (last["val_accuracy"], last["seconds"], last["lr"]) == (0.5, 3, None)


def test_json_columns_are_plain_json_text(store: Store, db_path: Path) -> None:
    exp, run_id, h = _run(store, config={"epochs": 3, "lr": float("nan")})
    store.add_trial(exp, 0, run_id=run_id, arch=get_preset("darts-v2"),
                    metrics={"accuracy": 0.9, "params": 1000})
    store.update_run(run_id, test_accuracy=float("inf"))  # non-finite numbers become NULL
    conn = sqlite3.connect(db_path)
    config, test_acc = conn.execute("SELECT config, test_accuracy FROM runs").fetchone()
    arch, metrics = conn.execute("SELECT arch, metrics FROM trials").fetchone()
    design_json, env = conn.execute("SELECT json, environment FROM designs, experiments").fetchone()
    conn.close()
    assert json.loads(config) == {"epochs": 3, "lr": None} and test_acc is None
    assert json.loads(metrics) == {"accuracy": 0.9, "params": 1000}
    assert json.loads(arch)["kind"] == "cell" == json.loads(design_json)["kind"]
    assert json.loads(env) == ENV
    db = sqlite_utils.Database(db_path)  # what `sqlite-utils rows` reads
    assert {"designs", "experiments", "runs", "epochs", "artifacts", "trials", "search_state",
            "_migrations"} <= set(db.table_names())
    assert [r["design_hash"] for r in db["runs"].rows] == [h]
    db.close()


def test_delete_and_rename_experiment(store: Store) -> None:
    exp, parent, h = _run(store)
    child_exp = store.create_experiment("compress", {}, environment=ENV)
    child = store.create_run(child_exp, h, kind="compress", parent_id=parent)
    store.add_epoch(parent, 1, val_accuracy=0.5)
    store.add_artifact(parent, "bundle", "/tmp/b.zip")
    store.add_trial(exp, 0, run_id=parent)
    store.save_search_state(exp, {"step": 1})
    store.rename_experiment(child_exp, "pruned")
    assert store.get_experiment(child_exp).name == "pruned"
    store.delete_experiment(exp)
    assert [e.id for e in store.experiments()] == [child_exp]
    assert [r.id for r in store.runs()] == [child]
    assert store.get_run(child).parent_id is None
    for table in ("epochs", "artifacts", "trials", "search_state"):
        assert store.query(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"] == 0
    assert store.get_design(h) == get_preset("darts-v2")


def test_runs_with_designs_filters(store: Store) -> None:
    exp, small, h = _run(store)
    big_h = store.add_design(get_preset("efficientnet-b0"))
    big = store.create_run(exp, big_h, kind="search")
    store.update_run(small, status="finished", params=1000, test_accuracy=0.95)
    store.update_run(big, status="failed", params=5_000_000, best_val_accuracy=0.5)
    pick = lambda **kw: [r.id for r in store.runs_with_designs(**kw)]  # noqa: E731
    assert pick() == [small, big]
    assert pick(status="finished") == [small]
    assert pick(kind="search") == [big]
    assert pick(min_accuracy=0.9) == [small]
    assert pick(max_params=10_000) == [small]
    assert pick(design_kind="stack") == [big]
    assert pick(experiment_id=exp + 1) == []
    row = store.runs_with_designs(status="failed")[0]
    assert (row.design_name, row.design_kind, row.experiment_name) == (
        "efficientnet-b0", "stack", f"train {exp}")
    child = store.create_run(exp, h, kind="compress", parent_id=small)
    assert [r.id for r in store.lineage(child)] == [child, small]


def test_trials_replace_by_number_and_search_state(store: Store) -> None:
    exp = store.create_experiment("search", {"strategy": "evolution"}, seed=3, environment=ENV)
    assert store.load_search_state(exp) is None
    first = store.add_trial(exp, 0, status="failed", error="out of memory")
    again = store.add_trial(exp, 0, metrics={"accuracy": 0.8})
    store.add_trial(exp, 1, status="rejected")
    assert first == again
    trials = store.trials(exp)
    assert [(t.trial, t.status, t.error) for t in trials] == [
        (0, "finished", None), (1, "rejected", None)]
    store.save_search_state(exp, {"rng": [1, 2, 3]})
    store.save_search_state(exp, {"rng": [4]})
    assert store.load_search_state(exp) == {"rng": [4]}
    store.finish_experiment(exp, "cancelled")
    assert store.get_experiment(exp).status == "cancelled"


def test_store_import_is_torch_free(tmp_path: Path) -> None:
    code = ("import sys; from engine.store import Store\n"
            f"Store({str(tmp_path / 'e.db')!r}).close(); print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert (out.returncode, out.stdout.strip()) == (0, "False"), out.stderr


def test_experiment_captures_environment(store: Store) -> None:
    import platform

    import torch
    import torchvision

    env = store.get_experiment(store.create_experiment("train", {})).environment
    assert env["python"] == platform.python_version()
    assert (env["torch"], env["torchvision"]) == (torch.__version__, torchvision.__version__)
    assert env["hostname"] == socket.gethostname() and env["device"] in ("cpu", "cuda", "mps")
    assert env["device_name"] and env["platform"]

def test_reader_thread_sees_writes_committed_after_its_first_read(store: Store) -> None:
    _, run_id, _ = _run(store)
    first_read, written = threading.Event(), threading.Event()
    seen: list[list[int]] = []

    def reader() -> None:
        seen.append([e["epoch"] for e in store.epochs(run_id)])
        first_read.set()
        written.wait()
        seen.append([e["epoch"] for e in store.epochs(run_id)])

    t = threading.Thread(target=reader)
    t.start()
    first_read.wait()
    store.add_epoch(run_id, 1, val_accuracy=0.5)
    written.set()
    t.join()
    assert seen == [[], [1]]


def test_forgotten_store_and_dead_reader_threads_release_resources(db_path: Path) -> None:
    import gc

    s = Store(db_path)
    t = threading.Thread(target=s.experiments)
    t.start()
    t.join()
    gc.collect()
    assert len(s._readers) == 0  # the dead thread's connection went with it
    writer_thread = s._writer._thread
    exp = s.create_experiment("train", {}, environment=ENV)
    del s
    gc.collect()
    writer_thread.join(30)
    assert not writer_thread.is_alive()
    with Store(db_path) as again:
        assert [e.id for e in again.experiments()] == [exp]


def test_store_refuses_use_after_fork(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "_pid", -1)  # as seen from a forked child
    with pytest.raises(StoreError, match="forked child"):
        store.create_experiment("train", {}, environment=ENV)


WRITER_SCRIPT = """
import sys
from engine.arch.presets import get_preset
from engine.store import Store
s = Store(sys.argv[1])
h = s.add_design(get_preset("darts-v2"))
exp = s.create_experiment("train", {}, environment={})
for _ in range(20):  # each create_run reads (checks its references) before it writes
    run = s.create_run(exp, h)
    for epoch in range(1, 4):
        s.add_epoch(run, epoch, val_accuracy=epoch / 3)
    s.update_run(run, status="finished")
s.close()
"""


def test_processes_create_and_write_one_file(db_path: Path) -> None:
    procs = [subprocess.Popen([sys.executable, "-c", WRITER_SCRIPT, str(db_path)],
                              stderr=subprocess.PIPE, text=True) for _ in range(3)]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], errors
    with Store(db_path) as s:
        assert s.schema_version() == len(MIGRATIONS)
        assert len(s.experiments()) == 3
        assert [r.epochs_done for r in s.runs()] == [3] * 60
        assert {r.status for r in s.runs()} == {"finished"}


KILLED_SCRIPT = """
import os, signal, sys
from engine.arch.presets import get_preset
from engine.store import Store
s = Store(sys.argv[1])
run = s.create_run(None, s.add_design(get_preset("darts-v2")))
for epoch in range(1, 6):
    s.add_epoch(run, epoch, val_accuracy=epoch / 10)
os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_sigkilled_writer_loses_no_committed_epoch(db_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-c", KILLED_SCRIPT, str(db_path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr
    with Store(db_path) as s:
        assert s.get_run(1).status == "running"
        assert s.mark_interrupted() == [1]
        assert [e["epoch"] for e in s.epochs(1)] == [1, 2, 3, 4, 5]
        assert s.get_run(1).epochs_done == 5
