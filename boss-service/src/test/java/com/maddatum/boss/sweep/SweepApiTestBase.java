package com.maddatum.boss.sweep;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.boss.config.BossProperties;
import com.maddatum.boss.job.JobService;
import com.maddatum.boss.order.OrderQueries;
import com.maddatum.boss.order.OrderService;
import com.maddatum.boss.order.OrderWatch;
import com.maddatum.boss.outcome.OutcomeStore;
import com.maddatum.boss.support.BossApiTestBase;
import java.time.Clock;
import com.maddatum.testsupport.HttpJson;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.BeforeEach;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.TestPropertySource;
import tools.jackson.databind.JsonNode;

/**
 * Sweeps over real HTTP, with Workers simulated by claiming and calling back as the Worker does. The tick is
 * parked: tests drive sweeps themselves ({@link #drive}), so what a test sees never depends on a timer. Each
 * test's trials need a label of its own, and its nodes have it: no test claims another's trials.
 */
@TestPropertySource(properties = "boss.sweeps.tick=1h")
abstract class SweepApiTestBase extends BossApiTestBase {

    @Autowired
    protected SweepDriver driver;

    // What a second driver (another replica, or one with a store or a job service of the test's) is made of.
    @Autowired SweepStore sweeps;
    @Autowired TrialStore trials;
    @Autowired JobService jobs;
    @Autowired OrderQueries orderQueries;
    @Autowired OrderService orderService;
    @Autowired OutcomeStore outcomes;
    @Autowired OrderWatch watch;
    @Autowired Clock systemClock;
    @Autowired BossProperties properties;
    @Autowired TrialPoints points;

    /** A driver of its own, as another Boss replica has, over these trials and this job service. */
    SweepDriver newDriver(TrialStore trials, JobService jobs) {
        return new SweepDriver(sweeps, trials, jobs, orderQueries, orderService, outcomes, watch, systemClock,
                properties, points);
    }

    protected String label;

    @BeforeEach
    void cancelEarlierSweeps() {
        for (Document sweep : mongo.find(new org.springframework.data.mongodb.core.query.Query(), Document.class,
                "sweeps")) {
            if (!"cancelled".equals(sweep.getString("status"))) {
                boss.post("/sweeps/" + sweep.getObjectId("_id").toHexString() + "/cancel", "");
            }
        }
        cancelLiveOrders();
        label = "sw" + System.nanoTime();
    }

    /** Registers a Worker node that has this test's label. */
    protected String node(String name) {
        String node = name + "-" + label;
        HttpJson.Reply reply = boss.post("/worker-node/create", Map.of("name", node, "labels", List.of(label)));
        assertThat(reply.status()).as(reply.body()).isIn(200, 201);
        return node;
    }

    /** A base job only this test's nodes claim, with one attempt (no retry hides how a trial ended). */
    protected Map<String, Object> base(Object... keyValues) {
        Map<String, Object> base = job("requiredLabels", List.of(label), "maxAttempts", 1);
        for (int i = 0; i < keyValues.length; i += 2) {
            base.put((String) keyValues[i], keyValues[i + 1]);
        }
        return base;
    }

    protected static Map<String, Object> sweepBody(Map<String, Object> base, Object parameters, Object... keyValues) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("name", "test sweep");
        body.put("base", base);
        body.put("parameters", parameters);
        body.put("method", "random");
        body.put("maxJobs", 4);
        body.put("parallelism", 2);
        body.put("seed", 7);
        for (int i = 0; i < keyValues.length; i += 2) {
            body.put((String) keyValues[i], keyValues[i + 1]);
        }
        return body;
    }

    protected static Map<String, Object> values(String path, Object... values) {
        return Map.of("path", path, "values", List.of(values));
    }

    protected static Map<String, Object> range(String path, double min, double max, String distribution) {
        return Map.of("path", path, "min", min, "max", max, "distribution", distribution);
    }

    /** Creates the sweep and drives it once: its first trials exist when this returns. */
    protected String create(Map<String, Object> body) {
        HttpJson.Reply reply = boss.post("/sweeps", body);
        assertThat(reply.status()).as(reply.body()).isEqualTo(201);
        String id = reply.json().get("sweepId").asString();
        drive(id);
        return id;
    }

    protected void drive(String sweepId) {
        driver.drive(new ObjectId(sweepId));
    }

    protected JsonNode sweep(String sweepId) {
        HttpJson.Reply reply = boss.get("/sweeps/" + sweepId);
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        return reply.json();
    }

    /** The sweep's orders in these statuses, as GET /jobs lists them. */
    protected List<JsonNode> orders(String sweepId, String... statuses) {
        List<JsonNode> found = new ArrayList<>();
        for (String status : statuses) {
            for (JsonNode item : boss.get("/jobs?size=100&sweep=" + sweepId + "&status=" + status).json().get("items")) {
                found.add(item.get("order"));
            }
        }
        return found;
    }

    protected int liveOrders(String sweepId) {
        return orders(sweepId, "unassigned", "assigned", "running").size();
    }

    /** The order the node claims, or null when there is none for it. */
    protected JsonNode tryClaim(String node) {
        HttpJson.Reply reply = boss.post("/bored/" + node + "?heartbeats=true", "");
        assertThat(reply.status()).as(reply.body()).isIn(200, 204);
        return reply.status() == 200 ? reply.json() : null;
    }

    protected void succeed(JsonNode order, String node, double loss) {
        callback(order, node, Map.of("status", 200, "loss", loss));
    }

    protected void callback(JsonNode order, String node, Map<String, Object> fields) {
        Map<String, Object> report = new LinkedHashMap<>(fields);
        report.put("orderId", order.get("_id").asString());
        report.put("jobId", order.get("jobId").asString());
        report.put("attempt", order.get("attempt").asInt());
        report.put("node", node);
        HttpJson.Reply reply = boss.post("/callback", report);
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
    }

    /** The job as stored (its sweepParams, trial, seed). */
    protected JsonNode storedJob(String jobId) {
        return boss.get("/retrieve/job/" + jobId).json();
    }

    protected JsonNode leaderboard(String sweepId) {
        return boss.get("/sweeps/" + sweepId + "/leaderboard").json();
    }

    protected long countIn(String collection, Document filter) {
        return mongo.getCollection(collection).countDocuments(filter);
    }
}
