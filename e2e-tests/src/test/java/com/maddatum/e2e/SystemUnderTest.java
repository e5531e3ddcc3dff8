package com.maddatum.e2e;

import com.maddatum.testsupport.HttpJson;
import com.maddatum.testsupport.JarProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Boss and its Workers as OS processes in one temporary directory, each with its own data,
 * work and spool folders. Everything started is stopped by {@link #close()}, even after a failure.
 */
final class SystemUnderTest implements AutoCloseable {

    /** Short leases and heartbeats so that lost workers are noticed in seconds, not minutes. */
    static final Map<String, String> FAST_LEASES = Map.of(
            "BOSS_LEASE_TIMEOUT", "4s", "BOSS_LEASE_REAP_INTERVAL", "500ms");

    private final Path dir;
    private final List<JarProcess> started = new ArrayList<>();
    JarProcess bossProcess;
    HttpJson boss;

    SystemUnderTest(Path dir) {
        this.dir = dir;
    }

    SystemUnderTest startBoss(Map<String, String> extra) throws Exception {
        Map<String, String> env = new LinkedHashMap<>(extra);
        env.put("BOSS_STORE_DATA_DIR", dir.resolve("boss-data").toString());
        bossProcess = track(JarProcess.start(JarProcess.jar("boss.jar"), dir.resolve("boss.log"), env));
        boss = new HttpJson(bossProcess.url());
        return this;
    }

    JarProcess startWorker(String name, Map<String, String> extra) throws Exception {
        Path home = Files.createDirectories(dir.resolve(name));
        Map<String, String> env = new LinkedHashMap<>();
        env.put("WORKER_BOSS_URL", bossProcess.url());
        env.put("WORKER_NODE_NAME", name);
        env.put("WORKER_SCRIPTS_DIR", System.getProperty("scripts.dir"));
        env.put("WORKER_WORK_DIR", home.resolve("work").toString());
        env.put("WORKER_SPOOL_DIR", home.resolve("spool").toString());
        env.put("WORKER_SLOTS", "1");
        env.put("WORKER_LONG_POLL", "5s");
        env.put("WORKER_HEARTBEAT_INTERVAL", "500ms");
        env.put("WORKER_POLL_INTERVAL", "200ms");
        env.putAll(extra);
        return track(JarProcess.start(JarProcess.jar("worker.jar"), home.resolve("worker.log"), env));
    }

    Path spool(String worker) {
        return dir.resolve(worker).resolve("spool");
    }

    String submit(Map<String, Object> job) {
        HttpJson.Reply reply = boss.post("/job/create", job);
        if (reply.status() != 201) {
            throw new IllegalStateException("submit failed: " + reply.status() + " " + reply.body());
        }
        return reply.json().get("jobId").asString();
    }

    private JarProcess track(JarProcess process) {
        started.add(process);
        return process;
    }

    @Override
    public void close() throws Exception {
        for (int i = started.size() - 1; i >= 0; i--) {
            started.get(i).close();
        }
    }
}
