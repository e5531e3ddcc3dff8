"""Keras spellings pasted from older Jobs are accepted as aliases, without running anything heavy."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import jobcontract as jc  # noqa: E402
import nn  # noqa: E402
import tabular  # noqa: E402


@pytest.mark.parametrize("given, meant", [("Adam", "adam"), ("RMSprop", "rmsprop"), ("SGD", "sgd"),
                                          ("AdamW", "adamw"), ("Nadam", "nadam"), ("rmsprop", "rmsprop")])
def test_keras_optimizer_names(given, meant):
    assert nn.NetSpec.from_job({"optimizer": given}).optimizer == meant


@pytest.mark.parametrize("given, meant", [("mean_squared_error", "mse"), ("mae", "mae"), ("MSE", "mse"),
                                          ("mean_absolute_error", "mae"), ("huber_loss", "huber"),
                                          ("MeanSquaredError", "mse"), ("Huber", "huber")])
def test_keras_loss_names(given, meant):
    job = {"depedentVariable": "y", "dataFileName": "wine_data.csv", "loss": given}
    assert tabular.TabularSpec.from_job(job).loss == meant


def test_an_unknown_name_still_says_what_is_accepted():
    with pytest.raises(jc.JobError) as error:
        tabular.TabularSpec.from_job({"depedentVariable": "y", "dataFileName": "w.csv", "loss": "cross_entropy"})
    assert "mse, mae, huber" in str(error.value) and "mean_squared_error" in str(error.value)
    with pytest.raises(jc.JobError):
        nn.NetSpec.from_job({"optimizer": "adamw2"})
