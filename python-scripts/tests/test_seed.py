"""The Job's seed reaches every random generator a script may draw from, over its whole range."""
import random
import sys

import numpy as np
import pytest

from conftest import SCRIPTS, example, run_script

sys.path.insert(0, str(SCRIPTS))
import jobcontract as jc  # noqa: E402


def draws():
    import torch

    return random.random(), float(np.random.rand()), float(torch.rand(1))


def test_seed_everything_repeats_pythons_numpys_and_torchs_global_draws():
    import torch  # noqa: F401  (seed_everything seeds torch once a script has imported it)

    jc.seed_everything(42)
    first = draws()
    jc.seed_everything(42)
    assert draws() == first
    jc.seed_everything(43)
    assert all(a != b for a, b in zip(draws(), first))


def test_the_largest_seed_works_for_numpy_whose_generator_stops_at_two_to_the_thirty_two():
    jc.seed_everything(2**32 - 1)
    jc.seed_everything(2**40)  # torch and random take it; numpy gets it modulo 2^32


@pytest.mark.parametrize("script, changes", [
    ("sk.py", {"model": "extratrees", "nEstimators": 5}),
    ("nn.py", {"epochs": 2}),
])
def test_the_largest_seed_the_boss_accepts_trains_every_fold(script, changes):
    base = "diabetes_ridge_job.json" if script == "sk.py" else "diabetes_good_job.json"
    run = run_script(script, example(base, seed=2**32 - 1, cvFolds=3, **changes))
    assert run.outcome["status"] == 200, run.stderr
