package com.maddatum.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The benchmark in smoke mode (tiny sizes): it must keep running and report every measure. */
class BenchSmokeIT {

    @Test
    @SuppressWarnings("unchecked")
    void theBenchmarkRunsAndReportsEveryMeasure() throws Exception {
        Path repo = Path.of(System.getProperty("repo.dir", "..")).toAbsolutePath().normalize();
        Path out = Path.of("target/bench-smoke").toAbsolutePath();
        Map<String, Object> results = BenchMain.run(new BenchMain.Config(true, repo, out,
                Files.createTempDirectory("bench-smoke-")));
        Map<String, Object> measures = (Map<String, Object>) results.get("measures");
        assertThat(measures).containsOnlyKeys("dispatchLatency", "perJobOverhead", "claimThroughput", "growth",
                "readPaths", "modelQuality", "transfers", "sweeps");
        measures.forEach((name, value) -> assertThat((Map<String, Object>) value).as(name).doesNotContainKey("error")
                .containsKey("met"));
        assertThat(((Map<String, Object>) measures.get("claimThroughput")).get("duplicates")).isEqualTo(0L);
        assertThat(Files.readString(out.resolve("RESULTS.md"))).contains("| machine |", "dispatchLatency", "cores");
        assertThat(out.resolve("results.json")).exists();
    }
}
