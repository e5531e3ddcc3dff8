"""nn.py trains for real: it beats the obvious baseline, repeats itself, and runs on the CPU."""
import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import KFold

from conftest import SCRIPTS, example, run_script


def mean_baseline_mse(folds: int, seed: int) -> float:
    data = pd.read_csv(SCRIPTS / "data" / "diabetes.csv")
    y = data["progression"].to_numpy()
    errors = []
    for train, test in KFold(n_splits=folds, shuffle=True, random_state=seed).split(y):
        errors.append(np.mean((y[test] - y[train].mean()) ** 2))
    return float(np.mean(errors))


def test_cv_on_diabetes_with_the_good_config_beats_predicting_the_mean():
    job = example("diabetes_good_job.json")
    run = run_script("nn.py", job)
    assert run.code == 0, run.stderr
    outcome = run.outcome
    baseline = mean_baseline_mse(job["cvFolds"], job["seed"])
    assert outcome["loss"] < 0.6 * baseline, (outcome["loss"], baseline)
    assert outcome["metric"] == pytest.approx(-outcome["loss"])
    assert outcome["metricName"] == "neg_mean_squared_error"
    assert outcome["rows"] == 442 and outcome["features"] == 10
    assert len(outcome["folds"]) == 5
    assert outcome["epochsRun"] >= 1


def test_the_same_seed_gives_the_same_result_and_another_seed_does_not():
    job = example("diabetes_good_job.json", epochs=15, cvFolds=3)
    first = run_script("nn.py", job).outcome
    again = run_script("nn.py", job).outcome
    other = run_script("nn.py", dict(job, seed=7)).outcome
    assert first["loss"] == again["loss"]
    assert first["metric"] == again["metric"]
    assert other["loss"] != first["loss"]


def test_cpu_only_runs_work():
    run = run_script("nn.py", example("diabetes_good_job.json", epochs=3, cvFolds=2, device="cpu"),
                     env={"CUDA_VISIBLE_DEVICES": ""})
    assert run.outcome["status"] == 200, run.stderr
    assert run.outcome["device"] == "cpu"


def test_the_seeds_job_trains_on_the_wine_data_within_its_target_range():
    run = run_script("nn.py", example("wine_seed_job.json", epochs=200))
    outcome = run.outcome
    assert outcome["status"] == 200, run.stderr
    # proline runs 278-1680; the seed's 0-1500 range keeps 174 of the 178 wines.
    assert outcome["rows"] == 174
    assert outcome["features"] == 13
    assert outcome["loss"] > 0


def test_holdout_training_saves_the_best_or_the_last_epochs_model_to_the_output_dir(tmp_path):
    import json

    import torch

    job = example("diabetes_good_job.json", crossValidateOnly=False, epochs=40)
    run = run_script("nn.py", job, env={"OUTPUT_DIR": str(tmp_path)})
    assert run.outcome["status"] == 200, run.stderr
    assert run.outcome["evaluation"] == "holdout 0.2"
    saved = torch.load(tmp_path / "model.pt", weights_only=True)
    spec = json.loads(saved["spec"])
    assert spec["weights"] == "best epoch"
    assert spec["features"] == ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]
    assert run.outcome["finalFit"]["rows"] == 442

    last = run_script("nn.py", dict(job, saveWeightsOnlyAtEnd=True), env={"OUTPUT_DIR": str(tmp_path)})
    assert last.outcome["status"] == 200
    assert json.loads(torch.load(tmp_path / "model.pt", weights_only=True)["spec"])["weights"] == "last epoch"


@pytest.mark.parametrize("changes", [
    {"lastLayerActivator": "sigmoid", "loss": "huber"},
    {"pcaComponents": 4, "scalerType": "minmax", "loss": "mae", "optimizer": "rmsprop"},
    {"pcaComponents": 0.9, "scalerType": "robust", "optimizer": "sgd", "learningRate": 0.001},
    {"extraTreesKeepThreshd": 0.05, "patienceRate": 0.2, "slowLearningRate": 0.001},
    {"hiddenLayers": [{"activation": "tanh", "widthModifier": 2, "dropout": 0.3},
                      {"activation": "elu", "widthModifier": 0.5}], "l1": 0.001, "optimizer": "nadam"},
])
def test_each_preprocessing_and_network_option_trains(changes):
    run = run_script("nn.py", example("diabetes_good_job.json", epochs=10, cvFolds=2, **changes))
    outcome = run.outcome
    assert outcome["status"] == 200, run.stderr
    assert outcome["loss"] < 2 * mean_baseline_mse(2, 0)


def progress_points(run):
    """The (step, value) of each progress line, checking that every one is well-formed and before the Outcome."""
    import json

    lines = [line for line in run.stdout if line.strip()]
    assert not lines[-1].startswith("##progress "), "a progress line must never be the last, the Outcome's, line"
    points = []
    for line in lines[:-1]:
        assert line.startswith("##progress "), line
        point = json.loads(line[len("##progress "):])
        assert isinstance(point["step"], int) and point["step"] >= 0
        points.append((point["step"], point["value"]))
    return points


@pytest.mark.parametrize("changes", [
    {"loss": "mse"},
    {"loss": "mae"},
    {"loss": "huber", "lastLayerActivator": "sigmoid"},  # min-max scaled target, another inversion
])
def test_each_epoch_reports_its_validation_loss_in_the_outcomes_units_with_steps_growing_across_folds(changes):
    job = example("diabetes_good_job.json", epochs=6, cvFolds=3, patienceRate=0, **changes)
    run = run_script("nn.py", job)
    outcome = run.outcome
    assert outcome["status"] == 200, run.stderr
    points = progress_points(run)
    # One per epoch, numbered by the epochs run so far: 1..18 over three folds of six.
    assert [step for step, _ in points] == list(range(1, 19))
    # Each fold's last validation loss and its held-out loss measure the same thing on different rows:
    # the same units within a small factor (on the scaled target they would differ by ~the target's
    # variance, thousands, for mse).
    for fold, held_out in enumerate(f["loss"] for f in outcome["folds"]):
        last_of_fold = points[6 * fold + 5][1]
        assert held_out / 3 < last_of_fold < held_out * 3, (changes, fold, last_of_fold, held_out)


def test_steps_keep_growing_through_early_stopping_and_the_final_fit(tmp_path):
    job = example("diabetes_good_job.json", epochs=30, patienceRate=0.1, crossValidateOnly=False)
    run = run_script("nn.py", job, env={"OUTPUT_DIR": str(tmp_path)})
    outcome = run.outcome
    assert outcome["status"] == 200, run.stderr
    steps = [step for step, _ in progress_points(run)]
    # The holdout's training, then the final fit's: every epoch of both, numbered on.
    assert steps == list(range(1, outcome["folds"][0]["epochs"] + outcome["finalFit"]["epochs"] + 1))


def test_without_a_validation_split_there_is_nothing_to_report():
    run = run_script("nn.py", example("diabetes_good_job.json", epochs=3, cvFolds=2, validationFraction=0,
                                      patienceRate=0))
    assert run.outcome["status"] == 200, run.stderr
    assert progress_points(run) == []
