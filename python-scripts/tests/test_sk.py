"""sk.py: scriptName really selects another model, through the same contract and evaluation."""
import pytest

from conftest import example, run_script


@pytest.mark.parametrize("model", ["ridge", "ridgecv", "extratrees"])
def test_each_model_cross_validates_on_diabetes(model):
    run = run_script("sk.py", example("diabetes_ridge_job.json", model=model, nEstimators=50))
    outcome = run.outcome
    assert outcome["status"] == 200, run.stderr
    assert outcome["model"] == model
    assert 2000 < outcome["loss"] < 4500
    if model == "ridgecv":
        assert all("alpha" in fold for fold in outcome["folds"])


def test_holdout_saves_the_pipeline_fitted_on_all_rows(tmp_path):
    import joblib

    run = run_script("sk.py", example("diabetes_ridge_job.json", crossValidateOnly=False),
                     env={"OUTPUT_DIR": str(tmp_path)})
    assert run.outcome["status"] == 200
    assert run.outcome["finalFit"]["rows"] == 442 and "alpha" in run.outcome["finalFit"]
    pipeline = joblib.load(tmp_path / "model.joblib")
    assert pipeline.named_steps["features"].named_steps["scale"].n_samples_seen_ == 442


def test_each_fold_reports_its_held_out_loss_as_progress():
    import json

    run = run_script("sk.py", example("diabetes_ridge_job.json"))
    outcome = run.outcome
    assert outcome["status"] == 200, run.stderr
    lines = [line for line in run.stdout if line.strip()]
    points = [json.loads(line[len("##progress "):]) for line in lines[:-1]]
    assert [p["step"] for p in points] == [1, 2, 3, 4, 5]
    assert [p["value"] for p in points] == [f["loss"] for f in outcome["folds"]]
