package com.maddatum.boss.sweep.sample;

/**
 * The standard normal truncated to [a, b]: its log-mass, log-density and quantile, computed as Optuna 3.1's
 * {@code samplers/_tpe/_truncnorm.py} does (itself taken from SciPy) so that our Parzen estimators agree with
 * Optuna's to rounding: the left tail is always the one computed, and the quantile is found by bisection on
 * log Φ.
 */
final class TruncatedNormal {

    private static final double SQRT2 = Math.sqrt(2.0);
    private static final double LOG_SQRT_2PI = Math.log(Math.sqrt(2 * Math.PI));
    private static final double LN2 = Math.log(2.0);

    private TruncatedNormal() {
    }

    /** log of the standard normal mass in [a, b]. */
    static double logGaussMass(double a, double b) {
        if (b <= 0) {
            return logDiff(logNdtr(b), logNdtr(a));
        }
        if (a > 0) {
            return logDiff(logNdtr(-a), logNdtr(-b));
        }
        // Central: 1 - Φ(a) - Φ(-b) through log1p, which keeps its precision as the mass nears 1.
        return Math.log1p(-ndtrByErf(a) - ndtrByErf(-b));
    }

    /**
     * log-density at x of N(loc, scale²) truncated to [loc + a·scale, loc + b·scale]. Unlike Optuna 3.1 this
     * subtracts log(scale), so the density integrates to 1: Optuna fixed that in 3.5 (optuna/optuna#5109).
     */
    static double logPdf(double x, double a, double b, double loc, double scale, double logMass) {
        double z = (x - loc) / scale;
        if (a == b) {
            return Double.NaN;
        }
        if (z < a || b < z) {
            return Double.NEGATIVE_INFINITY;
        }
        return -(z * z) / 2.0 - LOG_SQRT_2PI - Math.log(scale) - logMass;
    }

    /** The q-quantile (0 <= q <= 1) of the standard normal truncated to [a, b]. */
    static double ppf(double q, double a, double b) {
        if (a == b) {
            return Double.NaN;
        }
        if (q == 0) {
            return a;
        }
        if (q == 1) {
            return b;
        }
        double mass = logGaussMass(a, b);
        if (a < 0) {
            return ndtriExp(logAddExp(logNdtr(a), Math.log(q) + mass));
        }
        return -ndtriExp(logAddExp(logNdtr(-b), Math.log1p(-q) + mass));
    }

    /** log Φ(a), with the asymptotic series far in the left tail where Φ underflows. */
    static double logNdtr(double a) {
        if (a > 6) {
            return -ndtr(-a); // log(1 - ε) = -ε to double precision
        }
        if (a > -20) {
            return Math.log(ndtr(a));
        }
        double logLhs = -0.5 * a * a - Math.log(-a) - 0.5 * Math.log(2 * Math.PI);
        double lastTotal = 0.0;
        double rightHandSide = 1.0;
        double numerator = 1.0;
        double denomFactor = 1.0;
        double denomCons = 1 / (a * a);
        int sign = 1;
        int i = 0;
        while (Math.abs(lastTotal - rightHandSide) > Math.ulp(1.0)) {
            i++;
            lastTotal = rightHandSide;
            sign = -sign;
            denomFactor *= denomCons;
            numerator *= 2 * i - 1;
            rightHandSide += sign * numerator * denomFactor;
        }
        return logLhs + Math.log(rightHandSide);
    }

    /** Φ(a), choosing erf or erfc so that neither tail loses its digits. */
    static double ndtr(double a) {
        double x = a / SQRT2;
        if (x < -1 / SQRT2) {
            return 0.5 * Erf.erfc(-x);
        }
        if (x < 1 / SQRT2) {
            return 0.5 + 0.5 * Erf.erf(x);
        }
        return 1.0 - 0.5 * Erf.erfc(x);
    }

    /** Φ(a) the way Optuna computes it for the central mass: through erf alone. */
    private static double ndtrByErf(double a) {
        return 0.5 + 0.5 * Erf.erf(a / SQRT2);
    }

    /** The x with log Φ(x) = y, by 100 bisections of [-100, 100] (Optuna's {@code _ndtri_exp}). */
    private static double ndtriExp(double y) {
        double lo = -100;
        double hi = 100;
        if (logNdtr(lo) > y) {
            lo = 100;
            hi = -100;
        }
        double m = 0;
        for (int i = 0; i < 100; i++) {
            m = (lo + hi) / 2;
            if (logNdtr(m) < y) {
                lo = m;
            } else {
                hi = m;
            }
        }
        return m;
    }

    /** log(e^p - e^q) for q <= p. */
    private static double logDiff(double p, double q) {
        return p + Math.log1p(-Math.exp(q - p));
    }

    /** log(e^x + e^y), as numpy's {@code logaddexp}. */
    static double logAddExp(double x, double y) {
        if (x == y) {
            return x + LN2;
        }
        double d = x - y;
        if (d > 0) {
            return x + Math.log1p(Math.exp(-d));
        }
        if (d <= 0) {
            return y + Math.log1p(Math.exp(d));
        }
        return d; // NaN
    }
}
