package com.maddatum.worker.local;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.worker.support.TestSettings;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.mock.web.MockHttpServletRequest;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

/** The seed's local {@code /scripts/run}, with a scripted Boss taking the callback. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class LocalRunControllerTest {

    static final MockWebServer BOSS = new MockWebServer();

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) throws IOException {
        BOSS.setDispatcher(new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) {
                String path = request.getUrl().encodedPath();
                return path.startsWith("/bored") ? new MockResponse.Builder().code(204).build()
                        : new MockResponse.Builder().code(200).body("{}").build();
            }
        });
        BOSS.start(0);
        Path root = Files.createTempDirectory("worker-local");
        registry.add("worker.boss-url", () -> BOSS.url("/").toString());
        registry.add("worker.scripts-dir", () -> TestSettings.fixtureScripts().toString());
        registry.add("worker.work-dir", () -> root.resolve("work").toString());
        registry.add("worker.spool-dir", () -> root.resolve("spool").toString());
        registry.add("worker.token", () -> "local-secret");
        registry.add("worker.long-poll", () -> "1s");
        registry.add("worker.shutdown-grace", () -> "2s");
        registry.add("worker.kill-grace", () -> "1s");
        registry.add("worker.local-max-body-bytes", () -> "4096");
        // As on Kubernetes, where Spring Boot would trust X-Forwarded-For from any private address.
        registry.add("spring.main.cloud-platform", () -> "kubernetes");
    }

    @AfterAll
    static void stop() {
        BOSS.close();
    }

    @LocalServerPort
    int port;

    @LocalManagementPort
    int managementPort;

    @Autowired
    LocalRunController controller;

    @Value("${server.address}")
    String address;

    private final HttpClient http = HttpClient.newHttpClient();

    private HttpResponse<String> post(String body, String token) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/scripts/run"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void listensOnLoopbackOnlyByDefault() {
        assertThat(address).isEqualTo("127.0.0.1");
    }

    @Test
    void runsAJobOutsideTheQueueAndPostsItsOutcomeToTheCallbackAddress() throws Exception {
        String job = "{\"_id\":\"local-1\",\"scriptName\":\"ok.py\",\"callbackAddress\":\"" + BOSS.url("/") + "\"}";
        HttpResponse<String> response = post(job, "local-secret");
        assertThat(response.statusCode()).isEqualTo(202);
        String runId = TestSettings.JSON.readTree(response.body()).get("runId").asString();

        RecordedRequest callback = null;
        for (int i = 0; i < 50 && callback == null; i++) {
            RecordedRequest request = BOSS.takeRequest(1, TimeUnit.SECONDS);
            if (request != null && request.getUrl().encodedPath().equals("/callback")) {
                callback = request;
            }
        }
        assertThat(callback).isNotNull();
        JsonNode outcome = TestSettings.JSON.readTree(callback.getBody().utf8());
        assertThat(outcome.get("status").asInt()).isEqualTo(200);
        assertThat(outcome.get("jobId").asString()).isEqualTo("local-1");
        assertThat(outcome.get("loss").asDouble()).isEqualTo(1.5);

        HttpResponse<String> result = http.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/scripts/run/" + runId))
                .header("Authorization", "Bearer local-secret").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(TestSettings.JSON.readTree(result.body()).get("status").asString()).isEqualTo("finished");
    }

    @Test
    void asksForTheWorkerTokenWhenOneIsSet() throws Exception {
        assertThat(post("{\"scriptName\":\"ok.py\"}", null).statusCode()).isEqualTo(401);
        assertThat(post("{\"scriptName\":\"ok.py\"}", "wrong").statusCode()).isEqualTo(401);
    }

    @Test
    void refusesABodyThatIsNotAJob() throws Exception {
        assertThat(post("[1,2]", "local-secret").statusCode()).isEqualTo(400);
    }

    @Value("${management.server.address}")
    String managementAddress;

    @Test
    void actuatorHasAPortOfItsOwnOnLoopbackAndScriptsRunIsNotOnIt() throws Exception {
        assertThat(managementPort).isNotEqualTo(port);
        assertThat(managementAddress).isEqualTo("127.0.0.1");
        assertThat(get(managementPort, "/actuator/health").statusCode()).isEqualTo(200);
        assertThat(get(managementPort, "/actuator/prometheus").statusCode()).isEqualTo(200);
        assertThat(get(port, "/actuator/health").statusCode()).isEqualTo(404);
        HttpResponse<String> onManagement = http.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + managementPort + "/scripts/run"))
                .header("Authorization", "Bearer local-secret").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"scriptName\":\"ok.py\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(onManagement.statusCode()).isEqualTo(404);
    }

    @Test
    void aCallerThatIsNotOnLoopbackIsRefusedWhateverTheBindAddress() throws Exception {
        MockHttpServletRequest request = new MockHttpServletRequest("POST", "/scripts/run");
        request.setRemoteAddr("10.1.2.3");
        request.addHeader("Host", "127.0.0.1:" + port);
        request.addHeader("Authorization", "Bearer local-secret");
        request.setContentType("application/json");
        request.setContent("{\"scriptName\":\"ok.py\"}".getBytes(StandardCharsets.UTF_8));
        assertThat(controller.run(request).getStatusCode().value()).isEqualTo(403);
        request.setRemoteAddr("127.0.0.1");
        assertThat(controller.run(request).getStatusCode().value()).isEqualTo(202);
    }

    @Test
    void aHostThatIsNotALoopbackNameIsRefusedAgainstDnsRebinding() throws Exception {
        String job = "{\"scriptName\":\"ok.py\"}";
        assertThat(raw("POST", "/scripts/run", "attacker.example:" + port, job)).startsWith("HTTP/1.1 403");
        assertThat(raw("GET", "/scripts/run/x", "attacker.example", null)).startsWith("HTTP/1.1 403");
        assertThat(raw("GET", "/scripts/run/x", "localhost:" + port, null)).startsWith("HTTP/1.1 404");
        assertThat(raw("GET", "/scripts/run/x", "[::1]:" + port, null)).startsWith("HTTP/1.1 404");
        assertThat(LocalRunController.isLoopbackHost("127.0.0.1.nip.io")).isFalse();
        assertThat(LocalRunController.isLoopbackHost("localhost.attacker.example")).isFalse();
        assertThat(LocalRunController.isLoopbackHost("127.8.9.10:80")).isTrue();
    }

    /**
     * {@code bad.cafe} is all hex digits and dots: it used to be taken for an address literal and looked
     * up, and a rebinding attacker's name resolves to 127.0.0.1 (here through the test JVM's hosts file).
     */
    @Test
    void anAllHexNameThatResolvesToLoopbackIsANameAndIsRefused() throws Exception {
        assertThat(java.net.InetAddress.getByName("bad.cafe").isLoopbackAddress()).as("the attacker's name rebinds").isTrue();
        String job = "{\"scriptName\":\"ok.py\"}";
        assertThat(raw("POST", "/scripts/run", "bad.cafe:" + port, job)).startsWith("HTTP/1.1 403");
        assertThat(raw("GET", "/scripts/run/x", "dead.beef.cafe", null)).startsWith("HTTP/1.1 403");
        for (String name : new String[] {"bad.cafe", "dead.beef.cafe:80", "::1", "0177.0.0.1", "127.1", "2130706433",
                "127.0.0.256", "[::1", "[::1]x", "localhost:x", "[bad.cafe]", "[fe80::1]"}) {
            assertThat(LocalRunController.isLoopbackHost(name)).as(name).isFalse();
        }
        for (String name : new String[] {"localhost", "LOCALHOST:8081", "127.0.0.1", "127.8.9.10:80", "[::1]", "[::1]:8081",
                "[::ffff:127.0.0.1]:8081", "[0:0:0:0:0:0:0:1]"}) {
            assertThat(LocalRunController.isLoopbackHost(name)).as(name).isTrue();
        }
        assertThat(LocalRunController.isLoopback("0:0:0:0:0:0:0:1")).isTrue(); // how Tomcat reports ::1
    }

    /** A page on any site can POST a text/plain form to localhost:8081 without a preflight; no run may come of it. */
    @Test
    void aRunFromAWebPageOfAnotherSiteIsRefused() throws Exception {
        String host = "Host: localhost:" + port;
        String job = "{\"scriptName\":\"ok.py\"}";
        assertThat(send("POST", "/scripts/run", job, host, "Content-Type: text/plain")).startsWith("HTTP/1.1 415");
        assertThat(send("POST", "/scripts/run", job, host)).startsWith("HTTP/1.1 415");
        assertThat(send("POST", "/scripts/run", job, host, "Content-Type: application/json",
                "Origin: https://attacker.example")).startsWith("HTTP/1.1 403");
        assertThat(send("POST", "/scripts/run", job, host, "Content-Type: application/json", "Origin: null"))
                .startsWith("HTTP/1.1 403");
        assertThat(send("POST", "/scripts/run", job, host, "Content-Type: application/json",
                "Sec-Fetch-Site: cross-site")).startsWith("HTTP/1.1 403");
        assertThat(send("GET", "/scripts/run/x", null, host, "Origin: http://bad.cafe")).startsWith("HTTP/1.1 403");
        // A page this machine serves, and a tool that sends neither header, may.
        assertThat(send("POST", "/scripts/run", job, host, "Content-Type: application/json; charset=utf-8",
                "Origin: http://localhost:3000", "Sec-Fetch-Site: same-site")).startsWith("HTTP/1.1 202");
        assertThat(send("POST", "/scripts/run", job, host, "Content-Type: application/json")).startsWith("HTTP/1.1 202");
    }

    /** Through a proxy the socket's address is the proxy's: a caller that says it was forwarded is refused. */
    @Test
    void aRequestCarryingForwardingHeadersIsRefused() throws Exception {
        String host = "Host: localhost:" + port;
        for (String header : new String[] {"X-Forwarded-For: 127.0.0.1", "Forwarded: for=127.0.0.1", "X-Real-IP: 127.0.0.1"}) {
            assertThat(send("POST", "/scripts/run", "{\"scriptName\":\"ok.py\"}", host, "Content-Type: application/json",
                    header)).as(header).startsWith("HTTP/1.1 403");
        }
    }

    @Autowired
    org.springframework.boot.web.server.context.WebServerApplicationContext context;

    /**
     * On Kubernetes Spring Boot would install Tomcat's RemoteIpValve, which trusts X-Forwarded-For from
     * any private address: with SERVER_ADDRESS=0.0.0.0 any pod could say it is 127.0.0.1.
     */
    @Test
    void onKubernetesTomcatTakesTheCallersAddressFromTheSocketNotFromHeaders() {
        org.springframework.boot.tomcat.TomcatWebServer tomcat =
                (org.springframework.boot.tomcat.TomcatWebServer) context.getWebServer();
        assertThat(tomcat.getTomcat().getEngine().getPipeline().getValves())
                .noneMatch(v -> v instanceof org.apache.catalina.valves.RemoteIpValve);
    }

    @Test
    void aBodyOverTheLimitIsRefusedWhetherOrNotItSaysItsLength() throws Exception {
        String big = "{\"scriptName\":\"ok.py\",\"pad\":\"" + "p".repeat(5000) + "\"}";
        assertThat(post(big, "local-secret").statusCode()).isEqualTo(413);
        HttpResponse<String> chunked = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/scripts/run"))
                .header("Authorization", "Bearer local-secret").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofInputStream(
                        () -> new java.io.ByteArrayInputStream(big.getBytes(StandardCharsets.UTF_8)))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(chunked.statusCode()).isEqualTo(413);
        assertThat(post("{\"scriptName\":\"ok.py\",\"callbackAddress\":\"file:///etc/passwd\"}", "local-secret")
                .statusCode()).isEqualTo(400);
    }

    private HttpResponse<String> get(int onPort, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + onPort + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** A request written by hand, to send a Host that Java's HTTP client would not let us set. */
    private String raw(String method, String path, String host, String body) throws Exception {
        return send(method, path, body, "Host: " + host, "Content-Type: application/json");
    }

    /** A request with exactly these header lines, plus the token, the length and Connection: close. */
    private String send(String method, String path, String body, String... headers) throws Exception {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            byte[] bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
            OutputStream out = socket.getOutputStream();
            out.write((method + " " + path + " HTTP/1.1\r\n" + String.join("\r\n", headers)
                    + "\r\nAuthorization: Bearer local-secret\r\nContent-Length: " + bytes.length
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(bytes);
            out.flush();
            InputStream in = socket.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
