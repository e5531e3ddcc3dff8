"""Optuna 3.1's TPE log-densities for TpeReferenceTest.

Reads on stdin {"dimensions": [{"name", "kind": uniform|log_uniform|int_uniform|values, "min", "max",
"choices"}], "trials": [{"params", "value", "pruned"}], "points": {name: [internal values]}} and prints
{"below": [trial indices], "l": {name: [log l(x)]}, "g": {...}, "l_31": {...}, "g_31": {...},
"scipy_max_error": float | null}.

It drives Optuna's own code the way TPESampler.sample_independent does: the trials go into a study, then
_get_observation_pairs, _split_observation_pairs with default_gamma, and _ParzenEstimator with
TPESampler()'s default parameters. "l"/"g" use _truncnorm.logpdf with the fix Optuna made in 3.5
(optuna/optuna#5109: subtract log(scale)); "l_31"/"g_31" are Optuna 3.1 as shipped.
"""
import json
import sys

import numpy as np
import optuna
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.samplers import TPESampler
from optuna.samplers._tpe import _truncnorm
from optuna.samplers._tpe.parzen_estimator import _ParzenEstimator
from optuna.samplers._tpe.sampler import _get_observation_pairs, _split_observation_pairs, default_gamma
from optuna.trial import TrialState, create_trial

assert optuna.__version__.startswith("3.1."), optuna.__version__

PRUNED_STEP = 1


def distribution(d):
    if d["kind"] == "uniform":
        return FloatDistribution(d["min"], d["max"])
    if d["kind"] == "log_uniform":
        return FloatDistribution(d["min"], d["max"], log=True)
    if d["kind"] == "int_uniform":
        return IntDistribution(int(d["min"]), int(d["max"]))
    return CategoricalDistribution(d["choices"])


def study_of(space, trials):
    study = optuna.create_study(direction="minimize")
    for t in trials:
        dists = {name: space[name] for name in t["params"]}
        if t["pruned"]:
            trial = create_trial(params=t["params"], distributions=dists, state=TrialState.PRUNED,
                                 intermediate_values={PRUNED_STEP: float(t["value"])})
        else:
            trial = create_trial(params=t["params"], distributions=dists, value=float(t["value"]))
        study.add_trial(trial)
    return study


def densities(study, space, points):
    parameters = TPESampler()._parzen_estimator_parameters
    l, g, below_trials = {}, {}, None
    for name, dist in space.items():
        values, scores, _ = _get_observation_pairs(study, [name], False, False)
        below, above = _split_observation_pairs(scores, default_gamma(len(scores)), None)
        below_trials = below.tolist()
        config = np.asarray(values[name], dtype=float)
        mask = ~np.isnan(config)
        mpe_below = _ParzenEstimator({name: config[below[mask[below]]]}, {name: dist}, parameters)
        mpe_above = _ParzenEstimator({name: config[above[mask[above]]]}, {name: dist}, parameters)
        x = {name: np.asarray(points[name], dtype=int if isinstance(dist, CategoricalDistribution) else float)}
        l[name] = mpe_below.log_pdf(x).tolist()
        g[name] = mpe_above.log_pdf(x).tolist()
    return below_trials, l, g


def scipy_max_error():
    try:
        from scipy.stats import truncnorm
    except ImportError:
        return None
    x = np.linspace(-2.0, 3.0, 11)
    a, b, loc, scale = -1.5, 2.5, 0.3, 0.7
    ours = _truncnorm.logpdf(x, (a - loc) / scale, (b - loc) / scale, loc, scale)
    ref = truncnorm.logpdf(x, (a - loc) / scale, (b - loc) / scale, loc=loc, scale=scale)
    finite = np.isfinite(ref)
    assert np.array_equal(finite, np.isfinite(ours))
    return float(np.max(np.abs(ours[finite] - ref[finite])))


def main():
    request = json.load(sys.stdin)
    space = {d["name"]: distribution(d) for d in request["dimensions"]}
    study = study_of(space, request["trials"])
    below_trials, l_31, g_31 = densities(study, space, request["points"])

    shipped = _truncnorm.logpdf
    _truncnorm.logpdf = lambda x, a, b, loc=0, scale=1: shipped(x, a, b, loc, scale) - np.log(scale)
    _, l, g = densities(study, space, request["points"])
    error = scipy_max_error()
    json.dump({"below": below_trials, "l": l, "g": g, "l_31": l_31, "g_31": g_31,
               "scipy_max_error": error}, sys.stdout)


if __name__ == "__main__":
    main()
