package com.maddatum.boss.sweep;

import com.maddatum.boss.sweep.sample.Grid;
import com.maddatum.boss.sweep.sample.Observation;
import com.maddatum.boss.sweep.sample.RandomSampler;
import com.maddatum.boss.sweep.sample.Sampler;
import com.maddatum.boss.sweep.sample.TpeSampler;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;

/**
 * The configuration of a sweep's next trial. {@code grid}: the next cell from the cursor that was not tried.
 * {@code random} and {@code tpe}: the sampler's draw, seeded from the sweep's seed, the trial number and the
 * attempt alone (never from a generator shared across trials), so that the same seed proposes the same
 * configurations in the same order whenever trials end; a draw already tried is drawn again, up to
 * {@code attempts} times, and a finite space small enough to list then picks among the configurations left.
 */
final class Proposer {

    static final String GRID = "grid";
    static final String RANDOM = "random";
    static final String TPE = "tpe";
    static final Set<String> METHODS = Set.of(GRID, RANDOM, TPE);

    /** Finite spaces up to this size are listed when draws keep repeating, so that none is missed. */
    static final long LISTABLE = 100_000;

    /** A configuration, its hash, and the grid cursor after it. */
    record Proposal(Map<String, Object> params, String hash, long cursor) {}

    private final int attempts;
    private final Sampler random = new RandomSampler();
    private final Sampler tpe = new TpeSampler();

    Proposer(int attempts) {
        this.attempts = attempts;
    }

    /**
     * The next configuration not tried, or null when there is none.
     *
     * @param tried whether a configuration (by hash) has a trial already
     * @param allTried every hash tried, asked for only when listing a small finite space
     * @param finished the trials with a value so far (lower is better), for {@code tpe}
     */
    Proposal propose(Sweep sweep, int trial, Predicate<String> tried, Supplier<Set<String>> allTried,
            Supplier<List<Observation>> finished) {
        if (Proposer.GRID.equals(sweep.method())) {
            return nextCell(sweep, tried);
        }
        Sampler sampler = TPE.equals(sweep.method()) ? tpe : random;
        List<Observation> observations = TPE.equals(sweep.method()) ? finished.get() : List.of();
        for (int attempt = 0; attempt < attempts; attempt++) {
            Map<String, Object> params = sampler.next(sweep.space(), observations, rng(sweep.seed(), trial, attempt));
            if (params == null) {
                return null;
            }
            String hash = CanonicalJson.hash(params);
            if (!tried.test(hash)) {
                return new Proposal(params, hash, sweep.cursor());
            }
        }
        return pickUntried(sweep, trial, allTried);
    }

    private static Proposal nextCell(Sweep sweep, Predicate<String> tried) {
        Grid grid = Grid.of(sweep.space());
        for (long cell = sweep.cursor(); cell < grid.size(); cell++) {
            Map<String, Object> params = grid.cell(cell);
            String hash = CanonicalJson.hash(params);
            if (!tried.test(hash)) {
                return new Proposal(params, hash, cell + 1);
            }
        }
        return null;
    }

    /** After draws that all repeated: a configuration left in a finite space, chosen as reproducibly. */
    private Proposal pickUntried(Sweep sweep, int trial, Supplier<Set<String>> allTried) {
        Grid grid = Grid.of(sweep.space());
        if (grid == null || grid.size() > LISTABLE) {
            return null; // a space this large that keeps repeating is as good as exhausted
        }
        Set<String> tried = allTried.get();
        List<Map<String, Object>> left = new ArrayList<>();
        for (Map<String, Object> cell : grid.cells()) {
            if (!tried.contains(CanonicalJson.hash(cell))) {
                left.add(cell);
            }
        }
        if (left.isEmpty()) {
            return null;
        }
        Map<String, Object> params = left.get(rng(sweep.seed(), trial, attempts).nextInt(left.size()));
        return new Proposal(params, CanonicalJson.hash(params), sweep.cursor());
    }

    /** The generator of one draw: a function of the seed, the trial and the attempt, nothing else. */
    static RandomGenerator rng(long seed, int trial, int attempt) {
        return new SplittableRandom(mix(mix(seed) ^ mix(((long) trial << 32) | (attempt & 0xffffffffL))));
    }

    /** SplitMix64's finaliser: nearby inputs give unrelated outputs. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
