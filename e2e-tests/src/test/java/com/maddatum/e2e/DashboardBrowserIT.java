package com.maddatum.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.testsupport.HttpJson;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard in real headless Chromium (Debian's chromium and chromium-driver), against the packaged
 * Boss with tokens on and a packaged Worker running real scripts. Screenshots land in target/screenshots.
 */
class DashboardBrowserIT {

    private static final String SUBMITTER = "dash-submitter-0123456789abcdef0123456789";

    @TempDir
    Path dir;

    private WebDriver browser;

    @AfterEach
    void closeBrowser() {
        if (browser != null) {
            browser.quit();
        }
    }

    private WebDriver chromium() throws Exception {
        ChromeOptions options = new ChromeOptions();
        // Debian's packages by default; CI elsewhere may point CHROME_BIN and CHROMEDRIVER_BIN at its own.
        options.setBinary(System.getenv().getOrDefault("CHROME_BIN", "/usr/bin/chromium"));
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1400,1000",
                "--user-data-dir=" + Files.createDirectories(dir.resolve("chromium-profile")));
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(Path.of(System.getenv().getOrDefault("CHROMEDRIVER_BIN", "/usr/bin/chromedriver")).toFile()).usingAnyFreePort().build();
        return new ChromeDriver(service, options);
    }

    private void screenshot(String name) throws Exception {
        Path target = Files.createDirectories(Path.of(System.getProperty("screenshots.dir", "target/screenshots")));
        Files.write(target.resolve(name + ".png"), ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));
    }

    @Test
    void theDashboardShowsJobsWorkersLogsAndTheLeaderboardAndCancelsAJob() throws Exception {
        Map<String, String> tokens = Map.of("BOSS_SECURITY_SUBMITTER_TOKENS", SUBMITTER,
                "BOSS_SECURITY_WORKER_TOKENS", "dash-worker-0123456789abcdef0123456789ab", "SERVER_ADDRESS", "127.0.0.1");
        try (SystemUnderTest system = new SystemUnderTest(dir).startBoss(tokens)) {
            system.startWorker("w1", Map.of("WORKER_TOKEN", "dash-worker-0123456789abcdef0123456789ab"));
            HttpJson api = system.boss.withToken(SUBMITTER);
            for (double alpha : new double[] {0.1, 10, 1000}) {
                String jobId = api.post("/job/create", Map.of("scriptName", "sk.py", "projectName", "dash",
                        "dataFileName", "diabetes.csv", "depedentVariable", "progression", "model", "ridge",
                        "alpha", alpha, "cvFolds", 3)).json().get("jobId").asString();
                assertThat(api.awaitJobStatus(jobId, "done", Duration.ofMinutes(2)).get("order").get("status")
                        .asString()).isEqualTo("done");
            }
            // Long enough to still be running however slowly the browser starts; cancelled once looked at.
            String longJob = api.post("/job/create", Map.of("scriptName", "noop.py", "projectName", "dash-live",
                    "sleepSeconds", 120)).json().get("jobId").asString();
            String queued = api.post("/job/create", Map.of("scriptName", "noop.py", "projectName", "dash-queued",
                    "requiredLabels", List.of("tpu"))).json().get("jobId").asString();

            browser = chromium();
            // The page re-renders its tables every 2 s, so an element found a moment ago may be gone:
            // every wait retries across that, and clicks find and click in one step.
            WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(30));
            wait.ignoring(StaleElementReferenceException.class);
            browser.get(system.bossProcess.url() + "/");

            // The first API call is refused: the page asks for the token once.
            wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("token-form")));
            browser.findElement(By.id("token-input")).sendKeys(SUBMITTER);
            browser.findElement(By.id("token-save")).click();

            wait.until(d -> d.findElements(By.cssSelector("#jobs-table tr[data-job-id]")).size() >= 5);
            wait.until(d -> !d.findElement(By.cssSelector("#queue [data-status=done] b")).getText().equals("–"));
            assertThat(browser.findElement(By.cssSelector("#queue [data-status=done] b")).getText()).isEqualTo("3");

            // The job page follows the running script's log live.
            click(wait, By.cssSelector("#jobs-table tr[data-job-id='" + longJob + "']"));
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("job-log"), "noop started"));
            assertThat(browser.findElement(By.id("job-timeline")).getText()).contains("running");
            screenshot("dashboard-job");
            assertThat(api.post("/jobs/" + longJob + "/cancel", "").status()).isEqualTo(200);

            // Cancel the job nobody can run, from the page.
            click(wait, By.cssSelector("#jobs-table tr[data-job-id='" + queued + "'] button.cancel-job"));
            JsonStatus.await(api, queued, "cancelled");

            browser.findElement(By.id("workers-tab")).click();
            wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#workers-table tr[data-node='w1']")));
            wait.until(d -> d.findElement(By.cssSelector("#workers-table tr[data-node='w1']")).getText().contains("cpu"));
            screenshot("dashboard-workers");

            browser.findElement(By.id("leaderboard-tab")).click();
            wait.until(d -> new Select(d.findElement(By.id("board-project"))).getOptions().stream()
                    .anyMatch(o -> o.getAttribute("value").equals("dash")));
            wait.until(d -> {
                new Select(d.findElement(By.id("board-project"))).selectByValue("dash");
                return true;
            });
            wait.until(d -> d.findElements(By.cssSelector("#top-table tbody tr")).size() == 3);
            wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#loss-chart canvas")));
            wait.until(d -> !d.findElements(By.cssSelector("#top-table td.diff")).isEmpty());
            wait.until(d -> d.findElement(By.cssSelector("#param-chart canvas")).isDisplayed());
            screenshot("dashboard-leaderboard");
        }
    }

    private static void click(WebDriverWait wait, By target) {
        wait.until(d -> {
            d.findElement(target).click();
            return true;
        });
    }

    /** Waits (bounded) for the API to show a job in a state, for actions taken in the browser. */
    private static final class JsonStatus {
        static void await(HttpJson api, String jobId, String status) throws InterruptedException {
            assertThat(api.awaitJobStatus(jobId, status, Duration.ofSeconds(20)).get("order").get("status").asString())
                    .isEqualTo(status);
        }
    }
}
