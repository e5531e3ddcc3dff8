package com.maddatum.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.testsupport.HttpJson;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;
import tools.jackson.databind.JsonNode;

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
            List<String> doneJobs = new ArrayList<>();
            for (double alpha : new double[] {0.1, 10, 1000}) {
                Map<String, Object> job = new HashMap<>(Map.of("scriptName", "sk.py", "projectName", "dash",
                        "dataFileName", "diabetes.csv", "depedentVariable", "progression", "model", "ridge",
                        "alpha", alpha, "cvFolds", 3));
                if (alpha < 1000) {
                    job.put("sweepId", "dash-sweep");
                }
                String jobId = api.post("/job/create", job).json().get("jobId").asString();
                assertThat(api.awaitJobStatus(jobId, "done", Duration.ofMinutes(2)).get("order").get("status")
                        .asString()).isEqualTo("done");
                doneJobs.add(jobId);
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

            resultsSortingFiltersAndCompare(wait, api, doneJobs);

            // The job page follows the running script's log live.
            click(wait, By.cssSelector("#jobs-table tr[data-job-id='" + longJob + "']"));
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("job-log"), "noop started"));
            assertThat(browser.findElement(By.id("job-timeline")).getText()).contains("running");
            screenshot("dashboard-job");
            assertThat(api.post("/jobs/" + longJob + "/cancel", "").status()).isEqualTo(200);

            // The job nobody can run: its place in the queue when the Boss says it, and a rerun from its page.
            click(wait, By.cssSelector("#jobs-table tr[data-job-id='" + queued + "'] td.duration"));
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("job-id"), queued));
            JsonNode queue = api.get("/jobs/" + queued).json().get("queue");
            wait.until(d -> d.findElement(By.id("job-queue")).isDisplayed() == (queue != null));
            if (queue != null && queue.has("waitingBecause")) {
                assertThat(browser.findElement(By.id("job-queue-facts")).getText())
                        .contains(queue.get("waitingBecause").asString());
            }
            click(wait, By.id("job-rerun"));
            wait.until(d -> !d.findElement(By.id("job-id")).getText().equals(queued));
            String again = browser.findElement(By.id("job-id")).getText();
            JsonNode rerun = api.get("/jobs/" + again).json();
            assertThat(rerun.get("job").get("projectName").asString()).isEqualTo("dash-queued");
            assertThat(rerun.get("job").get("requiredLabels").get(0).asString()).isEqualTo("tpu");
            assertThat(api.post("/jobs/" + again + "/cancel", "").status()).isEqualTo(200);

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

            sweepsView(wait, api);
        }
    }

    /**
     * A grid sweep of four noop.py trials run by the real Worker, two of which fail as their job asks
     * (exitWith 400): the sweeps view lists it with its progress and best value, and its page shows the best
     * trial, both charts, and the failed trials apart from the finished ones.
     */
    @SuppressWarnings("unchecked")
    private void sweepsView(WebDriverWait wait, HttpJson api) throws Exception {
        Map<String, Object> base = new HashMap<>(Map.of("scriptName", "noop.py", "sleepSeconds", 0));
        base.put("exitWith", null);
        HttpJson.Reply created = api.post("/sweeps", Map.of("name", "dash sweep", "projectName", "dash-sweeps",
                "base", base, "method", "grid", "maxJobs", 4, "parallelism", 2, "seed", 1,
                "metric", Map.of("name", "loss", "goal", "minimize"),
                "parameters", List.of(Map.of("path", "sleepSeconds", "values", List.of(0, 0.2)),
                        Map.of("path", "exitWith", "values", Arrays.asList(null, 400)))));
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        String sweepId = created.json().get("sweepId").asString();
        JsonNode done = api.await("/sweeps/" + sweepId, s -> s.path("status").asString().equals("done"),
                Duration.ofMinutes(2));
        assertThat(done.get("counts").get("failed").asInt()).as(done.toString()).isEqualTo(2);
        String bestJob = done.get("best").get("jobId").asString();
        String bestTrial = done.get("best").get("trial").asString();

        click(wait, By.id("sweeps-tab"));
        By row = By.cssSelector("#sweeps-table tr[data-sweep-id='" + sweepId + "']");
        wait.until(d -> d.findElement(row).getText().contains("4 / 4"));
        assertThat(browser.findElement(row).getText()).contains("dash sweep", "grid", "done", "(trial " + bestTrial + ")");
        click(wait, row);
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.cssSelector("#sweep-best-facts a.sweep-best-job")));
        assertThat(browser.findElement(By.cssSelector("#sweep-best-facts dd.best-trial")).getText()).isEqualTo(bestTrial);
        assertThat(browser.findElement(By.cssSelector("a.sweep-best-job")).getAttribute("data-job-id")).isEqualTo(bestJob);

        // The failed trials stand apart: their own rows, status and colour in the table, their own series in the chart.
        wait.until(d -> d.findElements(By.cssSelector("#sweep-trials-table tbody tr")).size() == 4);
        List<WebElement> failed = browser.findElements(By.cssSelector("#sweep-trials-table tr.trial-failed"));
        assertThat(failed).hasSize(2).allSatisfy(tr ->
                assertThat(tr.findElement(By.cssSelector("td.trial-status")).getText()).isEqualTo("failed"));
        assertThat(failed.get(0).getCssValue("background-color")).isNotEqualTo(
                browser.findElement(By.cssSelector("#sweep-trials-table tr.trial-done")).getCssValue("background-color"));
        wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#sweep-trials-chart canvas")));
        wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#sweep-params-chart canvas")));
        List<String> series = (List<String>) ((JavascriptExecutor) browser).executeScript("return echarts"
                + ".getInstanceByDom(document.getElementById('sweep-trials-chart')).getOption().series"
                + ".map(s => s.name + '=' + (s.markLine ? s.markLine.data.length : s.data.length))");
        assertThat(series).contains("finished=2", "pruned=0", "failed=2");
        screenshot("dashboard-sweep");

        // The best trial's job opens on the jobs panel, and its page links back to the sweep.
        click(wait, By.cssSelector("a.sweep-best-job"));
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("job-id"), bestJob));
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("job-sweep"), sweepId));
        assertThat(browser.findElement(By.id("job-sweep")).getText()).startsWith("trial " + bestTrial + " of sweep");
    }

    /**
     * The table shows what a person opens it for (loss, metric, duration, links), sorts by loss, filters by
     * project and sweep, and compares ticked jobs side by side. Leaves the filters as it found them.
     */
    private void resultsSortingFiltersAndCompare(WebDriverWait wait, HttpJson api, List<String> doneJobs)
            throws Exception {
        By doneRow = By.cssSelector("#jobs-table tr[data-job-id='" + doneJobs.get(0) + "']");
        wait.until(d -> !d.findElement(doneRow).findElement(By.cssSelector("td.loss")).getText().isEmpty());
        // Each read finds the row again: the table is redrawn whenever the running job's duration changes.
        String metric = wait.until(d -> d.findElement(doneRow).findElement(By.cssSelector("td.metric")).getText());
        assertThat(metric).contains("neg_mean_squared_error");
        String took = wait.until(d -> d.findElement(doneRow).findElement(By.cssSelector("td.duration")).getText());
        assertThat(took).endsWith("s");
        List<String> links = wait.until(d -> d.findElement(doneRow).findElements(By.cssSelector("td.results a"))
                .stream().map(WebElement::getText).toList());
        assertThat(links).containsExactly("outcome", "manifest", "artifacts");

        // Filter by project: only the three done sk.py jobs.
        wait.until(d -> {
            new Select(d.findElement(By.id("filter-project"))).selectByValue("dash");
            return true;
        });
        wait.until(d -> rowIds(d).size() == 3);
        assertThat(rowIds(browser)).containsExactlyInAnyOrderElementsOf(doneJobs);

        // Sort by loss: lowest first, then highest first, as the Boss ranks them.
        click(wait, By.id("sort-loss"));
        wait.until(d -> rowIds(d).equals(apiOrder(api, "loss")));
        List<Double> ascending = losses(browser);
        assertThat(ascending).isSorted().doesNotHaveDuplicates().hasSize(3);
        screenshot("dashboard-sorted-by-loss");
        click(wait, By.id("sort-loss"));
        wait.until(d -> rowIds(d).equals(apiOrder(api, "-loss")));
        List<Double> descending = new ArrayList<>(ascending);
        java.util.Collections.reverse(descending);
        assertThat(losses(browser)).containsExactlyElementsOf(descending);
        click(wait, By.id("sort-loss")); // back to newest first

        // Filter by sweep: the two jobs sent with sweepId.
        browser.findElement(By.id("filter-sweep")).sendKeys("dash-sweep" + Keys.TAB);
        wait.until(d -> rowIds(d).size() == 2);
        assertThat(rowIds(browser)).containsExactlyInAnyOrder(doneJobs.get(0), doneJobs.get(1));

        // Compare the two, through the Boss's GET /jobs/compare.
        for (String jobId : doneJobs.subList(0, 2)) {
            click(wait, By.cssSelector("#jobs-table tr[data-job-id='" + jobId + "'] input.select-job"));
        }
        wait.until(d -> d.findElement(By.id("compare-button")).isEnabled());
        click(wait, By.id("compare-button"));
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.cssSelector("#compare-table tr[data-field='loss']")));
        assertThat(browser.findElements(By.cssSelector("#compare-table tr[data-section='metrics'][data-field]")))
                .extracting(row -> row.getAttribute("data-field")).contains("loss", "metric", "status");
        assertThat(browser.findElement(By.id("compare-error")).isDisplayed()).isFalse();
        // alpha is a job field that differs: listed, and the second job's cell highlighted against the first's.
        assertThat(browser.findElements(By.cssSelector("#compare-table tr[data-section='job'][data-field='alpha'] td")))
                .extracting(td -> td.getDomProperty("className")).containsExactly("", "", "diff");
        // Each job got its own seed from the Boss; the script and its data are the same.
        assertThat(browser.findElements(
                By.cssSelector("#compare-table tr[data-section='manifest'][data-field='seed'] td.diff"))).hasSize(1);
        assertThat(browser.findElement(By.id("compare-same")).getText()).contains("scriptSha256");
        screenshot("dashboard-compare");

        // The job view shows a done job's manifest when its outcome has one, and hides the section otherwise.
        click(wait, By.cssSelector("#jobs-table tr[data-job-id='" + doneJobs.get(0) + "'] td.loss"));
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("job-id"), doneJobs.get(0)));
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("job-outcome"), "neg_mean_squared_error"));
        assertThat(api.get("/jobs/" + doneJobs.get(0)).json().get("outcome").has("manifest")).isTrue();
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("job-manifest")));
        assertThat(browser.findElement(By.id("compare-view")).isDisplayed()).isFalse();
        assertThat(browser.findElement(By.cssSelector("#job-manifest-table tr[data-field='scriptSha256']"))
                .getText()).isNotBlank();

        browser.findElement(By.id("filter-sweep")).clear();
        browser.findElement(By.id("filter-sweep")).sendKeys(Keys.TAB);
        wait.until(d -> {
            new Select(d.findElement(By.id("filter-project"))).selectByValue("");
            return true;
        });
        wait.until(d -> rowIds(d).size() >= 5);
    }

    private static List<String> rowIds(WebDriver d) {
        return d.findElements(By.cssSelector("#jobs-table tbody tr[data-job-id]")).stream()
                .map(row -> row.getAttribute("data-job-id")).toList();
    }

    private static List<Double> losses(WebDriver d) {
        return d.findElements(By.cssSelector("#jobs-table tbody td.loss")).stream()
                .map(td -> Double.parseDouble(td.getText())).toList();
    }

    private static List<String> apiOrder(HttpJson api, String sort) {
        List<String> ids = new ArrayList<>();
        api.get("/jobs?project=dash&sort=" + sort).json().get("items")
                .forEach(item -> ids.add(item.get("order").get("jobId").asString()));
        return ids;
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
