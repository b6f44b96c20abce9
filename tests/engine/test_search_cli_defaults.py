"""``nas-studio search`` with its default trial training learns the digits (it used to
train one epoch per trial: 6 of 6 trials at 9.6-15.2%, chance is 10%)."""

from __future__ import annotations

import json

from engine.cli import main
from engine.store import Store


def test_a_default_trained_search_beats_chance_by_far(tmp_path, capsys):
    db = tmp_path / "s.db"
    assert main(["search", "--db", str(db), "--budget", "1", "--strategy", "random",
                 "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    with Store(db) as store:
        (trial,) = store.trials(result["experiment_id"])
        config = store.get_experiment(result["experiment_id"]).config
    assert config["evaluator"]["epochs"] == 2 and config["space"]["layers"] == 3
    assert trial.status == "finished" and trial.metrics["val_accuracy"] > 0.5
