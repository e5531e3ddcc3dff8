package com.maddatum.boss.sweep.sample;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** The special functions under TPE, against values from C's libm, SciPy and Optuna 3.1's {@code _truncnorm}. */
class TruncatedNormalTest {

    @Test
    void erfAndErfcMatchLibm() {
        double[][] cases = { // x, erf(x), erfc(x): Python's math.erf / math.erfc
            {0.5, 0.5204998778130465, 0.4795001221869535}, {-0.9, -0.7969082124228322, 1.7969082124228322},
            {1.1, 0.8802050695740817, 0.11979493042591827}, {2.0, 0.9953222650189527, 0.004677734981047265},
            {3.5, 0.9999992569016276, 7.430983723414128e-07}, {-4.0, -0.9999999845827421, 1.999999984582742}};
        for (double[] c : cases) {
            assertThat(Erf.erf(c[0])).as("erf(%s)", c[0]).isCloseTo(c[1], within(Math.ulp(c[1]) * 2));
            assertThat(Erf.erfc(c[0])).as("erfc(%s)", c[0]).isCloseTo(c[2], within(Math.ulp(c[2]) * 4));
        }
        assertThat(Erf.erf(Double.POSITIVE_INFINITY)).isEqualTo(1.0);
        assertThat(Erf.erfc(Double.NEGATIVE_INFINITY)).isEqualTo(2.0);
        assertThat(Erf.erfc(30)).isEqualTo(0.0);
    }

    @Test
    void logNdtrKeepsItsDigitsInBothTails() {
        double[][] cases = { // a, Optuna 3.1's _log_ndtr_single(a) (scipy.special.log_ndtr agrees to 1e-15 below 6)
            {-40.0, -804.6084420137538}, {-25.0, -316.6394080080202}, {-5.0, -15.064998393988724},
            {0.3, -0.4814101615884813}, {7.0, -1.279812543885835e-12}}; // above 6, log(1 - e) is taken as -e
        for (double[] c : cases) {
            assertThat(TruncatedNormal.logNdtr(c[0])).as("log_ndtr(%s)", c[0])
                    .isCloseTo(c[1], within(Math.abs(c[1]) * 1e-13));
        }
    }

    @Test
    void quantilesMatchScipyEvenFarInATail() {
        double[][] cases = { // q, a, b, scipy.stats.truncnorm.ppf(q, a, b)
            {0.1, -1.0, 2.0, -0.7046478210947453}, {0.7, 0.5, 3.0, 1.3194689604428471},
            {0.5, -8.0, -6.0, -6.11156496120527}};
        for (double[] c : cases) {
            assertThat(TruncatedNormal.ppf(c[0], c[1], c[2])).isCloseTo(c[3], within(1e-12));
        }
        assertThat(TruncatedNormal.ppf(0, -1, 2)).isEqualTo(-1);
        assertThat(TruncatedNormal.ppf(1, -1, 2)).isEqualTo(2);
    }

    @Test
    void theDensityIntegratesToOneWhateverTheScale() {
        for (double scale : new double[] {0.05, 1.0, 7.0}) {
            double low = -1;
            double high = 2;
            double loc = 0.4;
            double a = (low - loc) / scale;
            double b = (high - loc) / scale;
            double logMass = TruncatedNormal.logGaussMass(a, b);
            int n = 200_000;
            double h = (high - low) / n;
            double integral = 0;
            for (int i = 0; i < n; i++) {
                integral += Math.exp(TruncatedNormal.logPdf(low + (i + 0.5) * h, a, b, loc, scale, logMass)) * h;
            }
            assertThat(integral).as("scale %s", scale).isCloseTo(1.0, within(1e-6));
        }
    }
}
