package com.maddatum.worker.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.maddatum.worker.runner.ProcessRunner;
import com.maddatum.worker.support.TestSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.bind.validation.ValidationBindHandler;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WorkerSettingsTest {

    @TempDir
    Path root;

    private WorkerSettings settings(String bossUrl, String nodeName, Path scripts, int slots) {
        return new WorkerSettings(properties(bossUrl, nodeName, scripts, slots, null, null),
                new ProcessRunner(Clock.systemUTC()), TestSettings.JSON);
    }

    private WorkerProperties properties(String bossUrl, String nodeName, Path scripts, int slots, String token,
            String tokenFile) {
        return new WorkerProperties(bossUrl, nodeName, scripts.toString(), null,
                root.resolve("work").toString(), null, slots, List.of("bigmem"), Duration.ofSeconds(1),
                Duration.ofSeconds(20), Duration.ofHours(1), Duration.ofSeconds(30), Duration.ofSeconds(60),
                Duration.ofSeconds(5), token, tokenFile, root.resolve("spool").toString(), 1 << 20, 65536,
                Duration.ofSeconds(10), 200, TestSettings.ENVIRONMENT, 8, 1 << 20, false, null, null, null, null);
    }

    private java.util.Optional<String> token(String token, String tokenFile) {
        return WorkerSettings.token(properties("http://b", "n", TestSettings.fixtureScripts(), 1, token, tokenFile),
                java.util.Map.of());
    }

    @Test
    void theBlobCacheLivesInTheWorkDirectoryUnlessToldOtherwiseAndIsNotCreatedBySettings() {
        WorkerSettings settings = settings("http://b", "n", TestSettings.fixtureScripts(), 1);
        assertThat(settings.cacheDir()).isEqualTo(root.resolve("work").resolve(".cache").toAbsolutePath());
        assertThat(settings.cacheDir()).doesNotExist(); // the cache makes and locks it, not the settings
        assertThat(settings.cache().maxBytes().toBytes()).isEqualTo(20L << 30);
        assertThat(settings.artifacts().maxBytes().toBytes()).isEqualTo(1L << 30);
    }

    @Test
    void theTokenComesFromItsFileWhenOneIsNamedAndAFileThatCannotServeStopsTheStart() throws Exception {
        Path secret = Files.writeString(root.resolve("worker_token"), "from-the-file-0123456789abcdef0123\n");
        assertThat(token(null, secret.toString())).contains("from-the-file-0123456789abcdef0123");
        assertThat(token("from-the-env", secret.toString())).contains("from-the-file-0123456789abcdef0123");
        assertThat(token("from-the-env", null)).contains("from-the-env");
        assertThat(token(null, null)).isEmpty();
        assertThatThrownBy(() -> token(null, root.resolve("missing").toString())).hasMessageContaining("worker.token-file");
        Path empty = Files.writeString(root.resolve("empty"), "\n");
        assertThatThrownBy(() -> token("from-the-env", empty.toString())).hasMessageContaining("is empty");
    }

    @Test
    void readsTheSeedsConfigFileWhenNothingElseIsSet() throws Exception {
        Path scripts = Files.createDirectories(root.resolve("python-scripts"));
        Files.writeString(scripts.resolve("worker-node-configure.json"),
                "{\"bossAddress\": \"http://boss.example:3000/\", \"nodeName\": \"seed-gpu-1\"}");
        WorkerSettings settings = settings(null, null, scripts, 0);
        assertThat(settings.bossUrl()).isEqualTo("http://boss.example:3000");
        assertThat(settings.nodeName()).isEqualTo("seed-gpu-1");
        assertThat(settings.dataDir()).isEqualTo(scripts.toRealPath().resolve("data"));
    }

    @Test
    void explicitSettingsWinOverTheSeedsFile() throws Exception {
        Path scripts = Files.createDirectories(root.resolve("python-scripts"));
        Files.writeString(scripts.resolve("worker-node-configure.json"), "{\"bossAddress\": \"http://old\", \"nodeName\": \"old\"}");
        WorkerSettings settings = settings("http://new:8080", "new-node", scripts, 3);
        assertThat(settings.bossUrl()).isEqualTo("http://new:8080");
        assertThat(settings.nodeName()).isEqualTo("new-node");
        assertThat(settings.slots()).isEqualTo(3);
    }

    @Test
    void withoutGpusItRunsOneSlotLabelledCpu() {
        WorkerSettings settings = settings("http://b", "n", TestSettings.fixtureScripts(), 0);
        assertThat(settings.gpus()).isEmpty(); // no nvidia-smi on the build machines
        assertThat(settings.slots()).isEqualTo(1);
        assertThat(settings.labels()).containsExactly("bigmem", "cpu");
    }


    @Test
    void refusesAMissingScriptsDirectoryOrAnUnsafeNodeName() {
        assertThatThrownBy(() -> settings("http://b", "n", root.resolve("nope"), 1))
                .hasMessageContaining("WORKER_SCRIPTS_DIR");
        assertThatThrownBy(() -> settings("http://b", "bad name/..", TestSettings.fixtureScripts(), 1))
                .hasMessageContaining("node-name");
    }

    private static WorkerProperties bind(Map<String, String> values) {
        var validator = new org.springframework.validation.beanvalidation.LocalValidatorFactoryBean();
        validator.afterPropertiesSet();
        return new Binder(new MapConfigurationPropertySource(values)).bindOrCreate("worker",
                Bindable.of(WorkerProperties.class), new ValidationBindHandler(validator));
    }

    @Test
    void uploadsRetryForTwoMinutesAndNameAtMostSevenHundredFilesSoThatAnOutcomeFitsTheBoss() {
        assertThat(bind(Map.of()).artifacts()).isEqualTo(WorkerProperties.Artifacts.DEFAULTS)
                .extracting(WorkerProperties.Artifacts::maxFiles, WorkerProperties.Artifacts::retryFor)
                .containsExactly(500, Duration.ofMinutes(2));
        assertThat(bind(Map.of("worker.artifacts.max-files", "700", "worker.artifacts.retry-for", "0s")).artifacts())
                .extracting(WorkerProperties.Artifacts::maxFiles, WorkerProperties.Artifacts::retryFor)
                .containsExactly(700, Duration.ZERO);
        // 1,000 files of five values each would pass the Boss's 5,000 values (boss.limits.max-fields) alone.
        assertThatThrownBy(() -> bind(Map.of("worker.artifacts.max-files", "701")))
                .hasStackTraceContaining("Binding validation errors on worker.artifacts");
        assertThatThrownBy(() -> bind(Map.of("worker.artifacts.retry-for", "2h")))
                .hasStackTraceContaining("Binding validation errors on worker.artifacts");
    }

    @Test
    void theGpuCheckIsOnWithThirtySecondsAndCudaUnlessSetAndItsTimeoutIsBounded() {
        assertThat(bind(Map.of()).gpuCheck()).isEqualTo(WorkerProperties.GpuCheck.DEFAULTS)
                .isEqualTo(new WorkerProperties.GpuCheck(true, Duration.ofSeconds(30), true, Duration.ofMinutes(1),
                        Duration.ofMinutes(30)));
        assertThat(bind(Map.of("worker.gpu-check.timeout", "5s", "worker.gpu-check.cuda", "false")).gpuCheck())
                .isEqualTo(new WorkerProperties.GpuCheck(true, Duration.ofSeconds(5), false, Duration.ofMinutes(1),
                        Duration.ofMinutes(30)));
        assertThat(bind(Map.of("worker.gpu-check.enabled", "false")).gpuCheck().enabled()).isFalse();
        assertThatThrownBy(() -> bind(Map.of("worker.gpu-check.timeout", "0s"))).hasStackTraceContaining("Binding validation errors on worker.gpu-check");
        assertThatThrownBy(() -> bind(Map.of("worker.gpu-check.timeout", "1h"))).hasStackTraceContaining("Binding validation errors on worker.gpu-check");
    }

    @Test
    void theRetryOfFailedGpusIsBoundedAndItsMaxIsAtLeastItsFirstWait() {
        assertThat(bind(Map.of("worker.gpu-check.retry-first", "10s", "worker.gpu-check.retry-max", "10m")).gpuCheck())
                .extracting(WorkerProperties.GpuCheck::retryFirst, WorkerProperties.GpuCheck::retryMax)
                .containsExactly(Duration.ofSeconds(10), Duration.ofMinutes(10));
        assertThatThrownBy(() -> bind(Map.of("worker.gpu-check.retry-first", "0s")))
                .hasStackTraceContaining("Binding validation errors on worker.gpu-check");
        assertThatThrownBy(() -> bind(Map.of("worker.gpu-check.retry-max", "2d")))
                .hasStackTraceContaining("Binding validation errors on worker.gpu-check");
        assertThatThrownBy(() -> bind(Map.of("worker.gpu-check.retry-first", "5m", "worker.gpu-check.retry-max", "1m")))
                .hasStackTraceContaining("retry-max must be at least");
    }

    @Test
    void labelsDropGpuAndCudaOnACpuOnlyMachineAndKeepAConfiguredCpuOnAGpuMachine() {
        assertThat(WorkerSettings.labels(List.of("gpu", "bigmem"), false)).containsExactly("bigmem", "cpu");
        assertThat(WorkerSettings.labels(List.of("cpu"), true)).containsExactly("cpu", "cuda", "gpu");
    }

    /** A Worker pinned with CUDA_VISIBLE_DEVICES lists, checks and runs on the GPUs it names; empty: none. */
    @Test
    void theWorkersOwnCudaVisibleDevicesLimitsItsGpus() {
        com.maddatum.worker.support.FakeCommand smi = new com.maddatum.worker.support.FakeCommand(root, "nvidia-smi")
                .recorded("a100x4-uuid.csv", 0);
        WorkerSettings all = TestSettings.gpuSettings("http://b", root, 0, smi.command(), TestSettings.python(), null,
                Map.of());
        assertThat(all.gpus()).hasSize(4);
        assertThat(all.visibleDevices()).isNull();

        WorkerSettings two = TestSettings.gpuSettings("http://b", root, 0, smi.command(), TestSettings.python(), null,
                Map.of("CUDA_VISIBLE_DEVICES", "1,GPU-0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f3"));
        assertThat(two.gpus()).extracting(Gpu::index).containsExactly(1, 3);
        assertThat(two.slots()).isEqualTo(2);
        assertThat(two.labels()).contains("gpu", "cuda");

        WorkerSettings none = TestSettings.gpuSettings("http://b", root, 0, smi.command(), TestSettings.python(), null,
                Map.of("CUDA_VISIBLE_DEVICES", ""));
        assertThat(none.gpus()).isEmpty();
        assertThat(none.slots()).isEqualTo(1);
        assertThat(none.labels()).contains("cpu").doesNotContain("gpu", "cuda");
        assertThat(none.visibleDevices()).isEmpty();
        assertThat(none.gpuListing().failure()).isNull();
    }
}
