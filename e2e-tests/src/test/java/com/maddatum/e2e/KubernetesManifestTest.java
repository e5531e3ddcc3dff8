package com.maddatum.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * deploy/k8s as `kubectl kustomize` renders it, checked without a cluster: what would be applied, not
 * the files as written (the namespace, the image tags and the generated ConfigMap's name are kustomize's).
 * kubectl is on our machines; test.sh installs Debian's (kustomize v2) where none is. Without one the
 * test is skipped on a laptop and fails in CI (CI=true), so it cannot pass there by not running.
 */
@SuppressWarnings("unchecked")
class KubernetesManifestTest {

    private static final Path REPO = Path.of(System.getProperty("repo.dir", "..")).toAbsolutePath().normalize();
    private static final Path K8S = REPO.resolve("deploy/k8s");
    /** A token: a long run of letters and digits, with both in it (paths and names have no digits that long). */
    private static final Pattern TOKEN_LIKE = Pattern.compile("[A-Za-z0-9_-]{32,}");

    private static List<Map<String, Object>> objects;
    private static String rendered;

    @BeforeAll
    static void render() throws Exception {
        String kubectl = System.getenv().getOrDefault("KUBECTL", "kubectl");
        Process process;
        try {
            process = new ProcessBuilder(kubectl, "kustomize", K8S.toString()).redirectErrorStream(false).start();
        } catch (IOException notInstalled) {
            String why = "no kubectl on PATH (" + notInstalled.getMessage() + "); test.sh installs Debian's "
                    + "kubernetes-client, or set KUBECTL";
            if ("true".equals(System.getenv("CI"))) {
                fail(why);
            }
            Assumptions.abort(why);
            return;
        }
        byte[] err = process.getErrorStream().readAllBytes();
        rendered = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(new String(err, StandardCharsets.UTF_8)).isZero();
        objects = new ArrayList<>();
        for (Object document : new Yaml().loadAll(rendered)) {
            if (document != null) {
                objects.add((Map<String, Object>) document);
            }
        }
    }

    @Test
    void rendersEveryObjectTheDeploymentNeedsInOneNamespaceAndNoSecret() {
        assertThat(objects).extracting(o -> o.get("kind") + "/" + name(o)).contains(
                "Namespace/maddatum", "StatefulSet/mongo", "Service/mongo", "Deployment/boss", "Service/boss",
                "PodDisruptionBudget/boss", "Deployment/worker-gpu", "ScaledObject/worker-gpu",
                "TriggerAuthentication/boss-metrics");
        assertThat(objects).extracting(o -> o.get("kind")).contains("ConfigMap").doesNotContain("Secret");
        for (Map<String, Object> object : objects) {
            if (!"Namespace".equals(object.get("kind"))) {
                assertThat(metadata(object).get("namespace")).as(object.get("kind") + "/" + name(object))
                        .isEqualTo(namespace());
            }
        }
    }

    @Test
    void everyContainerRunsATaggedImageWithResources() {
        Map<String, String> images = new java.util.TreeMap<>();
        for (Map<String, Object> workload : workloads()) {
            for (Map<String, Object> container : containers(workload)) {
                String where = name(workload) + "/" + container.get("name");
                images.put(where, (String) container.get("image"));
                Map<String, Object> resources = (Map<String, Object>) container.get("resources");
                assertThat(resources).as(where + " resources").isNotNull();
                assertThat((Map<String, Object>) resources.get("requests")).as(where + " requests")
                        .containsKeys("cpu", "memory");
                assertThat((Map<String, Object>) resources.get("limits")).as(where + " limits").containsKey("memory");
            }
        }
        assertThat(images).containsExactlyInAnyOrderEntriesOf(Map.of(
                "boss/boss", "maddatum/boss-service:0.1.0",
                "mongo/mongo", "mongo:7.0",
                "worker-gpu/worker", "maddatum/worker-service-gpu:0.1.0"));
    }

    @Test
    void twoBossesBehindAServiceWithActuatorsProbeGroups() {
        Map<String, Object> boss = object("Deployment", "boss");
        assertThat(spec(boss).get("replicas")).isEqualTo(2);
        Map<String, Object> container = containers(boss).get(0);
        assertThat(probePath(container, "readinessProbe")).isEqualTo("/actuator/health/readiness");
        assertThat(probePath(container, "livenessProbe")).isEqualTo("/actuator/health/liveness");
        assertThat(port(container, "http")).isEqualTo(8080);
        Map<String, Object> service = object("Service", "boss");
        assertThat((Map<String, Object>) spec(service).get("selector"))
                .isEqualTo(((Map<String, Object>) spec(boss).get("selector")).get("matchLabels"));
        // The Boss refuses to listen beyond loopback without tokens; SERVER_ADDRESS opens it to the Service.
        assertThat(env(container, "SERVER_ADDRESS").get("value")).isEqualTo("0.0.0.0");
        String uri = (String) env(container, "SPRING_MONGODB_URI").get("value");
        com.mongodb.ConnectionString parsed = new com.mongodb.ConnectionString(uri);
        assertThat(parsed.getRequiredReplicaSetName()).isEqualTo("rs0");
        assertThat(parsed.getWriteConcern().getWString()).isEqualTo("majority");
        assertThat(parsed.getWriteConcern().getJournal()).isTrue();
        assertThat(parsed.getHosts()).containsExactly("mongo-0.mongo:27017");
    }

    /** A single-member replica set on a volume, initiated by the member itself under the name the Boss uses. */
    @Test
    void mongoIsAReplicaSetOfOneOnAPersistentVolume() {
        Map<String, Object> mongo = object("StatefulSet", "mongo");
        assertThat(spec(mongo).get("replicas")).isEqualTo(1);
        assertThat(spec(mongo).get("serviceName")).isEqualTo("mongo");
        assertThat((List<Map<String, Object>>) spec(mongo).get("volumeClaimTemplates"))
                .extracting(t -> metadata(t).get("name")).containsExactly("data");
        Map<String, Object> container = containers(mongo).get(0);
        assertThat((List<String>) container.get("args")).contains("--replSet=rs0");
        String postStart = String.join(" ", (List<String>) ((Map<String, Object>) ((Map<String, Object>)
                ((Map<String, Object>) container.get("lifecycle")).get("postStart")).get("exec")).get("command"));
        assertThat(postStart).contains("NotYetInitialized").contains("rs.initiate").contains("mongo-0.mongo.");
        Map<String, Object> headless = spec(object("Service", "mongo"));
        assertThat(headless.get("clusterIP")).isEqualTo("None");
        assertThat(headless.get("publishNotReadyAddresses")).isEqualTo(true);
    }

    /**
     * Tokens reach pods only from Secrets (an env secretKeyRef or a mounted secret file), no token is
     * written anywhere in the manifests, and every Secret they name is one make-secrets.sh creates.
     */
    @Test
    void everyTokenComesFromASecretAndNoneIsWrittenInTheManifests() throws Exception {
        String makeSecrets = Files.readString(K8S.resolve("make-secrets.sh"));
        for (Map<String, Object> workload : workloads()) {
            for (Map<String, Object> container : containers(workload)) {
                for (Map<String, Object> variable : envs(container)) {
                    String name = (String) variable.get("name");
                    if (name.contains("TOKEN") && !name.endsWith("_FILE") && !name.equals("JAVA_TOOL_OPTIONS")) {
                        assertThat(variable).as(name).doesNotContainKey("value");
                        Map<String, Object> ref = (Map<String, Object>) ((Map<String, Object>) variable.get("valueFrom"))
                                .get("secretKeyRef");
                        assertThat(ref).as(name + " secretKeyRef").isNotNull();
                        assertCreatedByMakeSecrets(makeSecrets, (String) ref.get("name"), (String) ref.get("key"));
                    }
                }
            }
        }
        Map<String, Object> worker = containers(object("Deployment", "worker-gpu")).get(0);
        assertThat(envs(worker)).extracting(v -> v.get("name")).doesNotContain("WORKER_TOKEN");
        Path tokenFile = Path.of((String) env(worker, "WORKER_TOKEN_FILE").get("value"));
        Map<String, Object> volume = volumeMountedAt(object("Deployment", "worker-gpu"), worker, tokenFile.getParent());
        Map<String, Object> secret = (Map<String, Object>) volume.get("secret");
        assertThat(secret).as("the volume holding WORKER_TOKEN_FILE is a Secret").isNotNull();
        assertCreatedByMakeSecrets(makeSecrets, (String) secret.get("secretName"), tokenFile.getFileName().toString());
        // Readable by the Worker's group (fsGroup), by no one else.
        assertThat(secret.get("defaultMode")).isEqualTo(0440);

        Map<String, Object> auth = object("TriggerAuthentication", "boss-metrics");
        List<Map<String, Object>> targets = (List<Map<String, Object>>) spec(auth).get("secretTargetRef");
        assertThat(targets).hasSize(1);
        assertThat(targets.get(0)).containsEntry("parameter", "token");
        assertCreatedByMakeSecrets(makeSecrets, (String) targets.get(0).get("name"), (String) targets.get(0).get("key"));

        List<String> tokenLike = new ArrayList<>();
        Matcher matcher = TOKEN_LIKE.matcher(rendered);
        while (matcher.find()) {
            if (matcher.group().matches(".*[0-9].*") && matcher.group().matches(".*[A-Za-z].*")) {
                tokenLike.add(matcher.group());
            }
        }
        assertThat(tokenLike).as("strings that look like tokens in the rendered manifests").isEmpty();
    }

    @Test
    void workersAskForOneGpuOnGpuNodesAndAreNamedAfterTheirPod() {
        Map<String, Object> deployment = object("Deployment", "worker-gpu");
        Map<String, Object> pod = podSpec(deployment);
        Map<String, Object> worker = containers(deployment).get(0);
        Map<String, Object> resources = (Map<String, Object>) worker.get("resources");
        assertThat(((Map<String, Object>) resources.get("requests")).get("nvidia.com/gpu")).isEqualTo(1);
        assertThat(((Map<String, Object>) resources.get("limits")).get("nvidia.com/gpu")).isEqualTo(1);
        assertThat((Map<String, Object>) pod.get("nodeSelector")).containsEntry("nvidia.com/gpu.present", "true");
        assertThat((List<Map<String, Object>>) pod.get("tolerations"))
                .anySatisfy(t -> assertThat(t).containsEntry("key", "nvidia.com/gpu").containsEntry("effect", "NoSchedule"));
        Map<String, Object> nodeName = (Map<String, Object>) ((Map<String, Object>) env(worker, "WORKER_NODE_NAME")
                .get("valueFrom")).get("fieldRef");
        assertThat(nodeName).containsEntry("fieldPath", "metadata.name");
        assertThat(env(worker, "WORKER_BOSS_URL").get("value"))
                .isEqualTo("http://boss:" + ((Map<String, Object>) ((List<Object>) spec(object("Service", "boss"))
                        .get("ports")).get(0)).get("port"));
        // The probe's port is the management port, opened beyond loopback.
        assertThat(probePath(worker, "livenessProbe")).isEqualTo("/actuator/health/liveness");
        assertThat(port(worker, "management")).isEqualTo(8082);
        assertThat(env(worker, "MANAGEMENT_SERVER_ADDRESS").get("value")).isEqualTo("0.0.0.0");
        // The pause container reaps what the scripts leave behind (compose's init: true).
        assertThat(pod.get("shareProcessNamespace")).isEqualTo(true);
        // KEDA owns the replica count; an apply must not reset it.
        assertThat(spec(deployment)).doesNotContainKey("replicas");
    }

    /**
     * The preStop drains the node and waits at most DRAIN_WAIT_SECONDS; the kubelet counts that wait
     * inside terminationGracePeriodSeconds, and the Worker's own shutdown comes after it.
     */
    @Test
    void workersDrainOnPreStopWithinAGracePeriodThatCoversTheWaitAndTheWorkersShutdown() throws Exception {
        Map<String, Object> deployment = object("Deployment", "worker-gpu");
        Map<String, Object> worker = containers(deployment).get(0);
        List<String> command = (List<String>) ((Map<String, Object>) ((Map<String, Object>)
                ((Map<String, Object>) worker.get("lifecycle")).get("preStop")).get("exec")).get("command");
        Path script = Path.of(command.get(command.size() - 1));
        Map<String, Object> volume = volumeMountedAt(deployment, worker, script.getParent());
        String configMap = (String) ((Map<String, Object>) volume.get("configMap")).get("name");
        Map<String, Object> data = (Map<String, Object>) object("ConfigMap", configMap).get("data");
        assertThat((String) data.get(script.getFileName().toString()))
                .isEqualTo(Files.readString(K8S.resolve("worker-drain.sh")));

        Duration wait = Duration.ofSeconds(Long.parseLong((String) env(worker, "DRAIN_WAIT_SECONDS").get("value")));
        Duration budget = WorkerShutdownBudget.forDefaults(REPO);
        Duration grace = Duration.ofSeconds(((Number) podSpec(deployment).get("terminationGracePeriodSeconds")).longValue());
        assertThat(grace).as("terminationGracePeriodSeconds against the drain wait %s and the Worker's budget %s",
                wait, budget).isGreaterThan(wait.plus(budget));
    }

    @Test
    void kedaScalesTheWorkersOnTheBossesClaimableDemandWithAMetricsToken() {
        Map<String, Object> scaled = object("ScaledObject", "worker-gpu");
        assertThat(((Map<String, Object>) spec(scaled).get("scaleTargetRef")).get("name")).isEqualTo("worker-gpu");
        int min = (Integer) spec(scaled).get("minReplicaCount");
        int max = (Integer) spec(scaled).get("maxReplicaCount");
        assertThat(max).isGreaterThan(min);
        assertThat((Integer) spec(scaled).get("cooldownPeriod")).isGreaterThanOrEqualTo(300);
        List<Map<String, Object>> triggers = (List<Map<String, Object>>) spec(scaled).get("triggers");
        assertThat(triggers).hasSize(1);
        Map<String, Object> trigger = triggers.get(0);
        assertThat(trigger.get("type")).isEqualTo("metrics-api");
        Map<String, Object> meta = (Map<String, Object>) trigger.get("metadata");
        URI url = URI.create((String) meta.get("url"));
        // KEDA runs in its own namespace: the Boss's Service by its namespace-qualified name.
        assertThat(url.getHost()).isEqualTo("boss." + namespace() + ".svc");
        assertThat(url.getPort()).isEqualTo(8080);
        assertThat(url.getPath()).isEqualTo("/fleet/demand");
        assertThat(url.getQuery()).isEqualTo("labels=gpu,cuda");
        assertThat(meta).containsEntry("valueLocation", "wanted").containsEntry("authMode", "bearer");
        assertThat(Double.parseDouble((String) meta.get("targetValue"))).isPositive();
        assertThat(((Map<String, Object>) trigger.get("authenticationRef")).get("name"))
                .isEqualTo(name(object("TriggerAuthentication", "boss-metrics")));
    }

    private static void assertCreatedByMakeSecrets(String script, String secret, String key) {
        assertThat(script).as("make-secrets.sh creates secret " + secret).contains("secret " + secret + " ");
        assertThat(script).as("make-secrets.sh gives " + secret + " the key " + key)
                .containsPattern("--from-file=(" + Pattern.quote(key) + "=|\"\\$dir/" + Pattern.quote(key) + "\")");
    }

    private static String namespace() {
        return name(object("Namespace", null));
    }

    private static Map<String, Object> object(String kind, String name) {
        return objects.stream()
                .filter(o -> kind.equals(o.get("kind")) && (name == null || name.equals(name(o))))
                .findFirst().orElseThrow(() -> new AssertionError("no " + kind + "/" + name + " in\n" + rendered));
    }

    private static List<Map<String, Object>> workloads() {
        return objects.stream().filter(o -> List.of("Deployment", "StatefulSet").contains(o.get("kind"))).toList();
    }

    private static Map<String, Object> metadata(Map<String, Object> object) {
        return (Map<String, Object>) object.get("metadata");
    }

    private static String name(Map<String, Object> object) {
        return (String) metadata(object).get("name");
    }

    private static Map<String, Object> spec(Map<String, Object> object) {
        return (Map<String, Object>) object.get("spec");
    }

    private static Map<String, Object> podSpec(Map<String, Object> workload) {
        return spec((Map<String, Object>) spec(workload).get("template"));
    }

    private static List<Map<String, Object>> containers(Map<String, Object> workload) {
        List<Map<String, Object>> all = new ArrayList<>((List<Map<String, Object>>) podSpec(workload).get("containers"));
        all.addAll((List<Map<String, Object>>) podSpec(workload).getOrDefault("initContainers", List.of()));
        return all;
    }

    private static List<Map<String, Object>> envs(Map<String, Object> container) {
        return (List<Map<String, Object>>) container.getOrDefault("env", List.of());
    }

    private static Map<String, Object> env(Map<String, Object> container, String name) {
        return envs(container).stream().filter(v -> name.equals(v.get("name"))).findFirst()
                .orElseThrow(() -> new AssertionError("no env " + name + " in " + container.get("name")));
    }

    private static String probePath(Map<String, Object> container, String probe) {
        Map<String, Object> http = (Map<String, Object>) ((Map<String, Object>) container.get(probe)).get("httpGet");
        Object port = http.get("port");
        assertThat(port instanceof Integer ? port : port(container, (String) port)).as(probe + " port").isNotNull();
        return (String) http.get("path");
    }

    private static Integer port(Map<String, Object> container, String name) {
        return ((List<Map<String, Object>>) container.get("ports")).stream()
                .filter(p -> name.equals(p.get("name"))).map(p -> (Integer) p.get("containerPort"))
                .findFirst().orElseThrow(() -> new AssertionError("no port " + name));
    }

    /** The pod volume mounted at {@code directory} in this container. */
    private static Map<String, Object> volumeMountedAt(Map<String, Object> workload, Map<String, Object> container,
            Path directory) {
        String volume = ((List<Map<String, Object>>) container.get("volumeMounts")).stream()
                .filter(m -> directory.equals(Path.of((String) m.get("mountPath"))))
                .map(m -> (String) m.get("name")).findFirst()
                .orElseThrow(() -> new AssertionError("nothing mounted at " + directory));
        return ((List<Map<String, Object>>) podSpec(workload).get("volumes")).stream()
                .filter(v -> Objects.equals(volume, v.get("name"))).findFirst().orElseThrow();
    }
}
