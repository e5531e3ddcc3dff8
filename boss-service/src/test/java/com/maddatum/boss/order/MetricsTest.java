package com.maddatum.boss.order;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.boss.support.BossApiTestBase;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Scrapes /actuator/prometheus the way Prometheus would. */
class MetricsTest extends BossApiTestBase {

    private double metric(String scrape, String name) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + " ([0-9.eE+-]+)$").matcher(scrape);
        assertThat(m.find()).as("%s in the scrape", name).isTrue();
        return Double.parseDouble(m.group(1));
    }

    @Test
    void queueAndClaimMetricsHaveSaneValues() {
        boss.post("/worker-node/create", Map.of("name", "metrics-node", "labels", java.util.List.of("gpu")));
        for (int i = 0; i < 3; i++) {
            submit(job("projectName", "metrics"));
        }
        submit(job("requiredLabels", java.util.List.of("gpu")));
        String before = boss.get("/actuator/prometheus").body();
        double claimedBefore = metric(before, "boss_claims_total{result=\"claimed\"}");
        assertThat(metric(before, "boss_queue_depth{status=\"unassigned\"}")).isEqualTo(4);
        assertThat(metric(before, "boss_queue_ready{label=\"gpu\"}")).isEqualTo(1);

        String orderId = claim("metrics-node").get("_id").asString();
        boss.post("/orders/" + orderId + "/heartbeat", Map.of("node", "metrics-node", "attempt", 1));
        boss.post("/bored/metrics-node", "");

        String after = boss.get("/actuator/prometheus").body();
        assertThat(metric(after, "boss_queue_depth{status=\"unassigned\"}")).isEqualTo(2);
        assertThat(metric(after, "boss_queue_depth{status=\"running\"}")).isEqualTo(1);
        assertThat(metric(after, "boss_queue_depth{status=\"assigned\"}")).isEqualTo(1);
        assertThat(metric(after, "boss_claims_total{result=\"claimed\"}") - claimedBefore).isEqualTo(2);
        assertThat(metric(after, "boss_claim_latency_seconds_count")).isGreaterThanOrEqualTo(2);
        double p99 = metric(after, "boss_claim_latency_seconds{quantile=\"0.99\"}");
        assertThat(p99).isGreaterThan(0).isLessThan(5);
        assertThat(metric(after, "boss_dispatch_latency_seconds_count")).isGreaterThanOrEqualTo(1);
        assertThat(boss.get("/stats").json().get("queue").get("running").asInt()).isEqualTo(1);
        assertThat(metric(after, "boss_workers_online")).isGreaterThanOrEqualTo(1);
    }

    @Test
    void labelGaugesAreCappedAndGoWhenNoWaitingOrderNeedsTheirLabel() {
        java.util.List<String> jobs = new java.util.ArrayList<>();
        for (int i = 0; i < OrderMetrics.MAX_LABEL_GAUGES + 30; i++) {
            jobs.add(submit(job("requiredLabels", java.util.List.of("many-" + i))).get("jobId").asString());
        }
        assertThat(labelSeries()).isEqualTo(OrderMetrics.MAX_LABEL_GAUGES);
        assertThat(boss.get("/stats").json().get("queue").get("unassigned").asInt())
                .isGreaterThanOrEqualTo(OrderMetrics.MAX_LABEL_GAUGES + 30);
        // When a gauged label is no longer needed, a label still waiting without a gauge gets its place.
        boss.post("/jobs/" + jobs.get(0) + "/cancel", "");
        String scrape = boss.get("/actuator/prometheus").body();
        assertThat(labelSeries()).isEqualTo(OrderMetrics.MAX_LABEL_GAUGES);
        assertThat(scrape).doesNotContain("boss_queue_ready{label=\"many-0\"}");
        assertThat(scrape).containsPattern("boss_queue_ready\\{label=\"many-1[0-2][0-9]\"} 1");
        cancelLiveOrders();
        assertThat(labelSeries()).isZero();
        submit(job("requiredLabels", java.util.List.of("gpu")));
        assertThat(metric(boss.get("/actuator/prometheus").body(), "boss_queue_ready{label=\"gpu\"}")).isEqualTo(1);
    }

    private long labelSeries() {
        return java.util.Arrays.stream(boss.get("/actuator/prometheus").body().split("\n"))
                .filter(line -> line.startsWith("boss_queue_ready{")).count();
    }
}
