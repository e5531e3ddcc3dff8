package com.maddatum.worker.poll;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class RepeatingTest {

    @Test
    void aPeriodicTaskThatThrowsRunsAgain() throws Exception {
        ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();
        try {
            AtomicInteger runs = new AtomicInteger();
            CountDownLatch thrice = new CountDownLatch(3);
            executor.scheduleAtFixedRate(Repeating.guarded("test", () -> {
                runs.incrementAndGet();
                thrice.countDown();
                throw new IllegalStateException("an answer that could not be read");
            }), 0, 10, TimeUnit.MILLISECONDS);
            // Unguarded, the first exception would cancel every later run: the count would stay at 1.
            assertThat(thrice.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(runs.get()).isGreaterThanOrEqualTo(3);
        } finally {
            executor.shutdownNow();
        }
    }
}
