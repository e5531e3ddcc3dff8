package com.maddatum.boss.support;

import com.maddatum.testsupport.MutableClock;
import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.testsupport.HttpJson;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Import;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

/**
 * The Boss on a random port with the embedded store in a fresh directory, driven over real HTTP.
 * Its clock is a {@link MutableClock}; the scheduled reaper is parked so tests reap explicitly, and so are
 * the artifact sweep and the blob collector: tests move the clock by hours, which would make every blob a
 * test uploaded old enough to collect.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "boss.lease.reap-interval=1h",
        "boss.artifacts.prune-interval=1h",
        "boss.blob-collection.enabled=false",
        "logging.level.com.maddatum=WARN"})
@Import(TestClockConfig.class)
public abstract class BossApiTestBase {

    @DynamicPropertySource
    static void dataDir(DynamicPropertyRegistry registry) throws IOException {
        Path dir = Files.createTempDirectory("boss-test-");
        registry.add("boss.store.data-dir", dir::toString);
    }

    @LocalServerPort
    protected int port;

    @Autowired
    protected MutableClock clock;

    @Autowired
    protected MongoTemplate mongo;

    protected HttpJson boss;

    @Autowired
    private com.maddatum.boss.order.OrderService orderService;

    @BeforeEach
    void connectAndClearQueue() {
        boss = new HttpJson("http://127.0.0.1:" + port);
        cancelLiveOrders();
    }

    /** Tests share one Boss and one clock: leave no live order behind from an earlier test. */
    protected void cancelLiveOrders() {
        for (String status : new String[] {"unassigned", "assigned", "running"}) {
            JsonNode page;
            int rounds = 0;
            do {
                page = boss.get("/jobs?size=100&status=" + status).json();
                for (JsonNode item : page.get("items")) {
                    boss.post("/jobs/" + item.get("order").get("jobId").asString() + "/cancel", "");
                }
                assertThat(++rounds).as("live %s orders that cannot be cancelled: %s", status, page).isLessThan(1000);
            } while (page.get("total").asLong() > 0);
        }
    }

    protected static Map<String, Object> job(Object... keyValues) {
        Map<String, Object> job = new LinkedHashMap<>();
        job.put("scriptName", "noop.py");
        for (int i = 0; i < keyValues.length; i += 2) {
            job.put((String) keyValues[i], keyValues[i + 1]);
        }
        return job;
    }

    /** Submits a job and returns the 201 body ({@code jobId}, {@code orderId}). */
    protected JsonNode submit(Map<String, Object> job) {
        HttpJson.Reply reply = boss.post("/job/create", job);
        assertThat(reply.status()).as(reply.body()).isEqualTo(201);
        return reply.json();
    }

    /** Claims as this project's Worker does: it heartbeats, so it gets the short lease. */
    protected JsonNode claim(String node) {
        HttpJson.Reply reply = boss.post("/bored/" + node + "?heartbeats=true", "");
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        return reply.json();
    }

    /** Claims as the seed's worker does: no heartbeats, so a seed lease, and a bare callback may end it. */
    protected JsonNode seedClaim(String node) {
        HttpJson.Reply reply = boss.post("/bored/" + node, "");
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        return reply.json();
    }

    /** Runs the lease reaper now; returns how many orders it moved. */
    protected int reapExpired() {
        return com.maddatum.boss.order.Reaping.reapNow(orderService);
    }

    protected long count(String collection) {
        return mongo.getCollection(collection).countDocuments();
    }
}
