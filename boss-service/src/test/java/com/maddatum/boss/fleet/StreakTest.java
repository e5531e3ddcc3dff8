package com.maddatum.boss.fleet;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.boss.fleet.RecordedEnding.Kind;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The quarantine rule, row by row: endings oldest first as "kind@minute", K = 3, a lease of 5 minutes. */
class StreakTest {

    private static final Instant T0 = Instant.parse("2026-12-01T00:00:00Z");
    private static final Duration LEASE = Duration.ofMinutes(5);

    static Stream<Arguments> rows() {
        return Stream.of(
                Arguments.of("three infrastructure failures", "infra@0 infra@1 infra@2", 3),
                Arguments.of("a success ends the streak", "infra@0 infra@1 ok@2 infra@3 infra@4", 0),
                Arguments.of("a success long ago does not", "ok@0 infra@1 infra@2 infra@3", 3),
                Arguments.of("two are not enough", "infra@0 infra@1", 0),
                Arguments.of("a pending script failure does not count", "infra@0 pending@1 infra@2", 0),
                // A node failing every script fast always has its newest failure still pending: passed over,
                // the confirmed ones behind it still make the case.
                Arguments.of("...nor ends the streak", "confirmed@0 confirmed@1 confirmed@2 pending@3 pending@4", 3),
                Arguments.of("a confirmed one does", "infra@0 confirmed@1 infra@2", 3),
                Arguments.of("the job's fault is passed over", "infra@0 infra@1 jobs@2 infra@3", 3),
                Arguments.of("four expiries in one lease period count once", "expiry@0 expiry@0 expiry@1 expiry@1", 0),
                Arguments.of("...and with two more failures make three",
                        "infra@0 expiry@10 expiry@10 expiry@11 expiry@11 infra@12", 6),
                Arguments.of("expiries a lease period apart count apart", "expiry@0 expiry@6 expiry@12", 3),
                Arguments.of("only the newest K are read", "ok@0 pending@1 infra@2 infra@3 infra@4", 3));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void quarantinesWhenTheLastKEndingsAllCount(String name, String endings, int evidence) {
        assertThat(Streak.evidence(parse(endings), 3, LEASE)).as(name).hasSize(evidence);
    }

    @ParameterizedTest(name = "K = 1: {0}")
    @MethodSource("rows")
    void withKOfOneTheNewestCountingEndingIsEnough(String name, String endings, int ignored) {
        List<RecordedEnding> parsed = parse(endings);
        // The newest ending that is settled and not the job's fault decides alone.
        boolean expected = false;
        for (int i = parsed.size() - 1; i >= 0; i--) {
            Kind kind = parsed.get(i).kind();
            if (kind != Kind.JOBS_FAULT && kind != Kind.SCRIPT_PENDING) {
                expected = kind.counts();
                break;
            }
        }
        assertThat(Streak.evidence(parsed, 1, LEASE).isEmpty()).as(name).isEqualTo(!expected);
    }

    /**
     * A node failing scripts fast piles up pending failures while the others give their opinions slowly:
     * the record keeps them apart from the settled endings, so none is trimmed before it settles.
     */
    @Test
    void theRecordKeepsPendingFailuresApartFromTheSettledOnes() {
        StringBuilder endings = new StringBuilder("pending@0");
        for (int i = 1; i <= 50; i++) {
            endings.append(i % 2 == 0 ? " ok@" : " pending@").append(i);
        }
        List<RecordedEnding> kept = Endings.trimmed(parse(endings.toString()));
        assertThat(kept).filteredOn(e -> e.kind() == Kind.SCRIPT_PENDING).hasSize(Endings.KEPT)
                .extracting(RecordedEnding::orderId).contains("order-49", "order-11").doesNotContain("order-0", "order-9");
        assertThat(kept).filteredOn(e -> e.kind() == Kind.OK).hasSize(Endings.KEPT);
        assertThat(kept).isSortedAccordingTo(java.util.Comparator.comparing(RecordedEnding::at));
    }

    private static List<RecordedEnding> parse(String endings) {
        List<RecordedEnding> parsed = new ArrayList<>();
        int n = 0;
        for (String token : endings.split(" ")) {
            String[] parts = token.split("@");
            Kind kind = switch (parts[0]) {
                case "ok" -> Kind.OK;
                case "infra" -> Kind.INFRASTRUCTURE;
                case "expiry" -> Kind.LEASE_EXPIRED;
                case "pending" -> Kind.SCRIPT_PENDING;
                case "confirmed" -> Kind.SCRIPT_CONFIRMED;
                case "jobs" -> Kind.JOBS_FAULT;
                default -> throw new IllegalArgumentException(parts[0]);
            };
            parsed.add(new RecordedEnding(kind, "order-" + n, "job-" + n, 1, 503, "X", null,
                    T0.plus(Duration.ofMinutes(Long.parseLong(parts[1])))));
            n++;
        }
        return parsed;
    }
}
