package com.maddatum.boss.order;

import static com.maddatum.boss.order.OrderFixture.T0;
import static com.maddatum.boss.order.OrderFixture.order;
import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.boss.order.Order.Failure;
import com.maddatum.boss.order.Order.HistoryEntry;
import com.maddatum.boss.order.SecondOpinion.Call;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import com.maddatum.testsupport.MutableClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What a script failure means, row by row. History is "kind:node:status:type" per earlier failure; the
 * failure judged is on node b, at the attempt after them, of at most 3.
 */
class SecondOpinionTest {

    static Stream<Arguments> rows() {
        return Stream.of(
                Arguments.of("first failure, another node could run it", "", 500, "NonZeroExit", true, Call.ASK_ANOTHER),
                Arguments.of("first failure, no other node", "", 500, "NonZeroExit", false, Call.FAIL),
                Arguments.of("a 4xx is the job's own refusal", "", 400, "BadJob", true, Call.FAIL),
                Arguments.of("a cancel (499) is not a failure", "", 499, "Cancelled", true, Call.FAIL),
                Arguments.of("same status and type on node a: the job's fault",
                        "script:a:500:NonZeroExit", 500, "NonZeroExit", true, Call.JOBS_FAULT),
                Arguments.of("...even with no other node left",
                        "script:a:500:NonZeroExit", 500, "NonZeroExit", false, Call.JOBS_FAULT),
                Arguments.of("a different type elsewhere: the opinion was asked once, no third",
                        "script:a:500:OutOfMemory", 500, "NonZeroExit", true, Call.FAIL),
                Arguments.of("the same node twice is not two nodes: the opinion is still to be asked",
                        "script:b:500:NonZeroExit", 500, "NonZeroExit", true, Call.ASK_ANOTHER),
                Arguments.of("...while attempts last", "script:b:500:NonZeroExit script:b:500:NonZeroExit", 500,
                        "NonZeroExit", true, Call.FAIL),
                Arguments.of("hand-backs before do not use up the second opinion",
                        "infrastructure:a:503:ScriptNotStarted", 500, "NonZeroExit", true, Call.ASK_ANOTHER),
                Arguments.of("no attempts left", "infrastructure:a:503:X infrastructure:c:503:X", 500, "NonZeroExit",
                        true, Call.FAIL));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void judgesAScriptFailure(String name, String history, int status, String type, boolean otherNode,
            Call expected) {
        List<HistoryEntry> entries = new ArrayList<>();
        int attempt = 0;
        for (String line : history.isEmpty() ? new String[0] : history.split(" ")) {
            String[] p = line.split(":");
            attempt++;
            Failure.Kind kind = p[0].equals("script") ? Failure.Kind.SCRIPT : Failure.Kind.INFRASTRUCTURE;
            entries.add(new HistoryEntry(OrderStatus.UNASSIGNED, T0, p[1], attempt, "failed",
                    new Failure(kind, Integer.parseInt(p[2]), p[3])));
        }
        Order current = order().status(OrderStatus.RUNNING).attempt(attempt + 1).maxAttempts(3)
                .history(entries.toArray(HistoryEntry[]::new)).build();
        Set<String>[] excluded = new Set[1];
        Fleet fleet = new Fleet() {
            public boolean mayClaim(String node) { return true; }
            public boolean stillMayClaim(String node) { return true; }
            public boolean anotherCanRun(Set<String> labels, Long minGpuMemoryMiB, Set<String> excluding) {
                excluded[0] = excluding;
                return otherNode;
            }
            public void ended(AttemptEnding ending) {}
            public java.util.List<com.maddatum.boss.worker.WorkerRegistry.LiveNode> takers(Set<String> labels) {
                return java.util.List.of();
            }
        };
        SecondOpinion.Judgement judgement = SecondOpinion.judge(current, "b", status, type, fleet);
        assertThat(judgement.call()).as(name).isEqualTo(expected);
        if (expected == Call.JOBS_FAULT) {
            assertThat(judgement.sameOn()).isEqualTo("a");
        }
        if (excluded[0] != null) {
            // The node that failed now, and every node that failed before, are no second opinion.
            assertThat(excluded[0]).contains("b").containsAll(current.failedOn());
        }
    }

    /**
     * A claim meets many waiting orders that failed on its node: whether another node could run them (a walk
     * of the live nodes) is asked once per kind of order in that claim, and the avoidance ends with avoid-for.
     */
    @Test
    void aClaimAsksWhetherAnotherNodeCouldRunOncePerKindOfOrderAndOnlyWithinAvoidFor() {
        int[] asked = {0};
        Fleet fleet = new Fleet() {
            public boolean mayClaim(String node) { return true; }
            public boolean stillMayClaim(String node) { return true; }
            public boolean anotherCanRun(Set<String> labels, Long minGpuMemoryMiB, Set<String> excluding) {
                asked[0]++;
                return true;
            }
            public void ended(AttemptEnding ending) {}
            public java.util.List<com.maddatum.boss.worker.WorkerRegistry.LiveNode> takers(Set<String> labels) {
                return java.util.List.of();
            }
        };
        MutableClock clock = MutableClock.stopped(); // stopped at T0
        SecondOpinion opinions = new SecondOpinion(null, fleet, clock, java.time.Duration.ofMinutes(10));
        List<ReadyIndex.Candidate> waiting = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            Order order = order().id(new org.bson.types.ObjectId()).status(OrderStatus.UNASSIGNED).attempt(1)
                    .revision(1).history(new HistoryEntry(OrderStatus.UNASSIGNED, T0, "a", 1, "handed back",
                            new Failure(Failure.Kind.INFRASTRUCTURE, 503, "ScriptNotStarted"))).build();
            opinions.remember(order);
            waiting.add(ReadyIndex.Candidate.of(order));
        }
        java.util.function.Predicate<ReadyIndex.Candidate> avoidedByA = opinions.avoidedBy("a");
        assertThat(waiting).allMatch(avoidedByA);
        assertThat(asked[0]).isEqualTo(1);
        assertThat(waiting).noneMatch(opinions.avoidedBy("b"));

        clock.advance(java.time.Duration.ofMinutes(10));
        assertThat(waiting).noneMatch(opinions.avoidedBy("a"));

        // Each node's avoidance runs from its own last failure: one later on b does not extend a's.
        Order twice = order().id(new org.bson.types.ObjectId()).status(OrderStatus.UNASSIGNED).attempt(2).revision(2)
                .history(new HistoryEntry(OrderStatus.UNASSIGNED, T0, "a", 1, "handed back",
                                new Failure(Failure.Kind.INFRASTRUCTURE, 503, "ScriptNotStarted")),
                        new HistoryEntry(OrderStatus.UNASSIGNED, T0.plus(java.time.Duration.ofMinutes(9)), "b", 2,
                                "handed back", new Failure(Failure.Kind.INFRASTRUCTURE, 503, "ScriptNotStarted")))
                .build();
        opinions.remember(twice);
        ReadyIndex.Candidate candidate = ReadyIndex.Candidate.of(twice);
        assertThat(opinions.avoidedBy("a").test(candidate)).isFalse();
        assertThat(opinions.avoidedBy("b").test(candidate)).isTrue();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("stops")
    void aDeliberateStopBlamesNobody(String type, String message, Failure.Kind expected) {
        OrderService.Ending ending = new OrderService.Ending(OrderService.Verdict.RETRY, null, "handed back", null, 503,
                type, message, false);
        assertThat(OrderService.handBack(ending).kind()).isEqualTo(expected);
        Order order = order().history(new HistoryEntry(OrderStatus.UNASSIGNED, T0, "n", 1, "x",
                OrderService.handBack(ending))).build();
        assertThat(order.failedOn()).hasSize(expected == Failure.Kind.STOPPED ? 0 : 1);
    }

    static Stream<Arguments> stops() {
        return Stream.of(
                Arguments.of("WorkerShutdown", "the worker shut down while the script ran", Failure.Kind.STOPPED),
                Arguments.of("NotStarted", "the run was stopped (SHUTDOWN) before its script started",
                        Failure.Kind.STOPPED),
                Arguments.of("NotStarted", "the run was stopped (TIMEOUT) before its script started",
                        Failure.Kind.INFRASTRUCTURE),
                Arguments.of("ScriptNotStarted", "the script could not be started: no python",
                        Failure.Kind.INFRASTRUCTURE),
                Arguments.of("JobNotFetched", "the worker could not fetch the job: HTTP 503", Failure.Kind.STOPPED),
                Arguments.of("SlotChanged", "the slot's GPU changed", Failure.Kind.STOPPED),
                Arguments.of(null, null, Failure.Kind.INFRASTRUCTURE));
    }
}
