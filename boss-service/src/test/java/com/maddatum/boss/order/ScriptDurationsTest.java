package com.maddatum.boss.order;

import static com.maddatum.boss.order.OrderFixture.T0;
import static com.maddatum.boss.order.OrderFixture.order;
import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.boss.support.TestProperties;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ScriptDurationsTest {

    private final ScriptDurations durations = new ScriptDurations(TestProperties.with(Map.of(
            "boss.queue.durations-kept", "3", "boss.queue.duration-scripts", "2")));

    private Order done(String project, String script, int startSecond, int seconds) {
        return order().project(project).script(script).status(OrderStatus.DONE).attempt(1)
                .started(T0.plusSeconds(startSecond)).finished(T0.plusSeconds(startSecond + seconds)).build();
    }

    @Test
    void keepsTheLatestRunsOfEachScriptInEachProjectWhateverOrderTheyArriveIn() {
        Order a = done("p", "nn.py", 100, 10);
        Order b = done("p", "nn.py", 0, 20);
        Order c = done("p", "nn.py", 300, 30);
        Order d = done("p", "nn.py", 200, 40);
        for (Order order : new Order[] {a, b, c, d}) {
            durations.move(null, order);
        }
        // b finished first, so it is the one dropped; the rest are oldest first.
        assertThat(durations.recent("p", "nn.py")).containsExactly(Duration.ofSeconds(10), Duration.ofSeconds(40),
                Duration.ofSeconds(30));
        assertThat(durations.recent("p", "other.py")).isEmpty();
        assertThat(durations.recent("q", "nn.py")).isEmpty();
    }

    @Test
    void aRunSeenAgainIsKeptOnceAndOnlyDoneRunsCount() {
        Order run = done("p", "nn.py", 0, 10);
        durations.move(null, run);
        durations.move(OrderFacts.of(run), run); // the same state applied again
        durations.move(null, run); // the start-up load after a restart
        Order failed = order().project("p").script("nn.py").status(OrderStatus.FAILED).attempt(1)
                .started(T0).finished(T0.plusSeconds(99)).build();
        durations.move(null, failed);
        assertThat(durations.recent("p", "nn.py")).containsExactly(Duration.ofSeconds(10));
    }

    @Test
    void aRunWithoutHeartbeatsIsTimedFromTheClaimOfItsLastAttempt() {
        Order seedRun = order().project("p").script("nn.py").status(OrderStatus.DONE).attempt(2)
                .history(new Order.HistoryEntry(OrderStatus.ASSIGNED, T0, "n", 1, "claimed"),
                        new Order.HistoryEntry(OrderStatus.ASSIGNED, T0.plusSeconds(100), "n", 2, "claimed"))
                .finished(T0.plusSeconds(130)).build();
        durations.move(null, seedRun);
        assertThat(durations.recent("p", "nn.py")).containsExactly(Duration.ofSeconds(30));
    }

    @Test
    void keepsAtMostTheConfiguredNumberOfScriptsDroppingTheLeastRecentlyUsed() {
        durations.move(null, done("p", "a.py", 0, 1));
        durations.move(null, done("p", "b.py", 0, 2));
        durations.recent("p", "a.py"); // a is used, so b is the least recently used
        durations.move(null, done("p", "c.py", 0, 3));
        assertThat(durations.scripts()).isEqualTo(2);
        assertThat(durations.recent("p", "b.py")).isEmpty();
        assertThat(durations.recent("p", "a.py")).containsExactly(Duration.ofSeconds(1));
        assertThat(durations.recent("p", "c.py")).containsExactly(Duration.ofSeconds(3));
    }
}
