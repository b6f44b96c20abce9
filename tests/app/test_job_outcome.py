"""A search in which every candidate broke the constraints is shown as failed, with why."""

from __future__ import annotations

from app.jobs.outcome import search_failure
from engine.search.job import SearchConfig, SearchJob


def test_search_failure_names_the_limit_or_the_counts():
    assert search_failure({"run_id": 3}) is None                       # not a search
    found = {"trials": 4, "best": {"trial": 1}, "counts": {"finished": 4}}
    assert search_failure(found) is None
    rejected = {"trials": 1001, "best": None, "counts": {"rejected": 1001}}
    text = search_failure(rejected, {"max_params": 50_000.0})
    assert "max params 50k" in text and "1,001" in text and "loosen" in text
    broken = {"trials": 3, "best": None, "counts": {"failed": 2, "rejected": 1}}
    assert search_failure(broken) == "no trial finished (2 failed, 1 rejected)"


def test_an_infeasible_search_is_failed_in_the_jobs_panel_and_the_log(studio, qtbot):
    window, ui, store = studio
    config = SearchConfig(space={"space": "mbconv"},
                          evaluator={"kind": "train", "dataset": "digits", "epochs": 1,
                                     "subset": 64},
                          strategy="random", budget=2, seed=0,
                          constraints={"max_params": 50_000.0}, max_rejected=4)
    job = SearchJob(config, store)
    assert job.describe() == "random search of mbconv, 2 trials, seed 0, max params 50k"
    ui.submit(job)
    row = ui.panel.rows[job.job_id]
    qtbot.waitUntil(lambda: row.state in ("finished", "failed", "cancelled"), timeout=120_000)
    assert row.state == "failed", row.status.text()
    assert row.bar.format() == "failed" and not row.details_button.isHidden()
    assert "max params 50k" in row.error and "rejected" in row.error
    assert "no design under 50k params in this space; the smallest has" in row.error
    assert "Failed:" in row.status.text()
    assert store.get_experiment(job.experiment_id).status == "failed"
    ended = [m for m in window.log.messages() if "mbconv" in m and "failed" in m]
    assert ended and "max params 50k" in ended[-1], window.log.messages()
