package com.maddatum.boss.artifact;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class KeepPolicyTest {

    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    private static KeepPolicy.Candidate job(String id, Double loss, int minute) {
        return new KeepPolicy.Candidate(id, loss, T0.plusSeconds(60L * minute));
    }

    @Test
    void keepsTheBestByLossAndTheLatestAndNothingElse() {
        List<KeepPolicy.Candidate> jobs = List.of(job("a", 3.0, 1), job("b", 1.0, 2), job("c", 2.0, 3),
                job("d", null, 4), job("e", 5.0, 5));
        assertThat(new KeepPolicy(2, 1).kept(jobs)).containsExactlyInAnyOrder("b", "c", "e");
        assertThat(new KeepPolicy(1, 2).kept(jobs)).containsExactlyInAnyOrder("b", "d", "e");
    }

    @Test
    void aJobWithoutALossIsKeptOnlyAsOneOfTheLatest() {
        List<KeepPolicy.Candidate> jobs = List.of(job("failed", null, 1), job("ranked", 9.0, 2));
        assertThat(new KeepPolicy(5, 0).kept(jobs)).containsExactly("ranked");
    }

    @Test
    void equalLossesGoToTheEarlierJobAsTheLeaderboardRanksThem() {
        List<KeepPolicy.Candidate> jobs = List.of(job("later", 1.0, 2), job("earlier", 1.0, 1), job("newest", 4.0, 3));
        assertThat(new KeepPolicy(1, 0).kept(jobs)).containsExactly("earlier");
    }

    @Test
    void theBestAndTheLatestMayBeTheSameJobs() {
        List<KeepPolicy.Candidate> jobs = List.of(job("a", 2.0, 1), job("b", 1.0, 2));
        assertThat(new KeepPolicy(10, 20).kept(jobs)).containsExactlyInAnyOrder("a", "b");
        assertThat(new KeepPolicy(1, 1).kept(jobs)).containsExactly("b");
    }
}
