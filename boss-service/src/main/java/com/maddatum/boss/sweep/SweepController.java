package com.maddatum.boss.sweep;

import com.maddatum.boss.config.BossProperties;
import com.maddatum.boss.idempotency.IdempotentCreates;
import com.maddatum.boss.web.ApiProblem;
import com.maddatum.boss.web.Ids;
import com.maddatum.boss.web.Paging;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.net.URI;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.bson.types.ObjectId;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.JsonNode;

/** Hyper-parameter sweeps: one request runs a search of many trials, each an ordinary job. */
@RestController
@Tag(name = "sweeps", description = "Hyper-parameter searches: grid, random or TPE, with early stopping")
class SweepController {

    static final String EXAMPLE = """
            {"name": "wine lr", "projectName": "wine_data",
             "base": {"scriptName": "nn.py", "dataFileName": "wine_data.csv", "depedentVariable": "proline",
                      "epochs": 100, "learningRate": 0.01, "optimizer": "adam",
                      "hiddenLayers": [{"activation": "relu", "widthModifier": 2, "dropout": 0.2}]},
             "parameters": [{"path": "learningRate", "min": 0.0001, "max": 0.1, "distribution": "log_uniform"},
                            {"path": "hiddenLayers.0.dropout", "values": [0.0, 0.2, 0.4]}],
             "method": "random", "maxJobs": 40, "parallelism": 4, "seed": 7,
             "metric": {"name": "loss", "goal": "minimize"}, "earlyStop": {"type": "median", "minSteps": 10}}""";

    record Created(String sweepId, int maxJobs, long planned) {}

    record Page(int page, int size, long total, List<SweepViews.SweepView> items) {}

    record Rerun(String sweepId, String status, List<Integer> rerun) {}

    private final SweepRequest requests;
    private final SweepStore sweeps;
    private final TrialStore trials;
    private final SweepDriver driver;
    private final SweepViews views;
    private final IdempotentCreates idempotent;
    private final Clock clock;
    private final BossProperties properties;

    SweepController(SweepRequest requests, SweepStore sweeps, TrialStore trials, SweepDriver driver, SweepViews views,
            IdempotentCreates idempotent, Clock clock, BossProperties properties) {
        this.requests = requests;
        this.sweeps = sweeps;
        this.trials = trials;
        this.driver = driver;
        this.views = views;
        this.idempotent = idempotent;
        this.clock = clock;
        this.properties = properties;
    }

    @Operation(summary = "Start a sweep", description = "Checks everything before any trial exists (a 400 names the "
            + "field), stores the sweep and starts its first trials. parameters: a list of {path, values} or {path, "
            + "min, max, distribution (uniform, log_uniform, int_uniform)}, or an object keyed by path; a path must "
            + "exist in base. method: grid (values and int_uniform only; a grid larger than maxJobs needs "
            + "\"truncate\": true), random or tpe. parallelism: trials queued or running at once (default 1). seed: "
            + "the sampler's (chosen by the Boss when left out). metric: loss (default), metric, metrics.<name> or a "
            + "numeric field the script reports; goal minimize (default) or maximize. earlyStop: {\"type\": "
            + "\"median\", \"minSteps\": k, \"minTrials\": 3}. With an Idempotency-Key, a repeat creates nothing.")
    @io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(mediaType = "application/json",
            schema = @Schema(type = "object"), examples = @ExampleObject(name = "a random search", value = EXAMPLE)))
    @PostMapping("/sweeps")
    ResponseEntity<?> create(@RequestBody JsonNode body, @Parameter(description = "as on POST /job/create")
            @RequestHeader(name = IdempotentCreates.KEY_HEADER, required = false) String idempotencyKey) {
        return idempotent.once("sweeps", idempotencyKey, body, id -> {
            Sweep sweep = requests.read(body, id, clock.instant());
            if (!sweeps.insert(sweep)) {
                // A retry of this creation under the same id: the stored sweep is the one.
                sweep = sweeps.find(id).orElseThrow(() -> ApiProblem.notFound("sweep", id.toHexString()));
            }
            driver.soon(id);
            return ResponseEntity.created(URI.create("/sweeps/" + id.toHexString()))
                    .body(new Created(id.toHexString(), sweep.maxJobs(), sweep.planned()));
        });
    }

    @Operation(summary = "Sweeps, newest first", description = "project filters; each with its counts and best trial.")
    @GetMapping("/sweeps")
    Page list(@RequestParam(required = false) String project, @RequestParam(defaultValue = "0") int page,
            @RequestParam(defaultValue = "20") int size) {
        Paging.checkPage(page, size, properties.limits().maxPageSize());
        List<SweepViews.SweepView> items = sweeps.page(project, page, size).stream().map(views::view).toList();
        return new Page(page, size, sweeps.count(project), items);
    }

    @Operation(summary = "A sweep: status, counts by trial state, progress (ended / planned), the best trial so far")
    @GetMapping("/sweeps/{id}")
    SweepViews.SweepView get(@PathVariable String id) {
        return views.view(sweep(id));
    }

    @Operation(summary = "The sweep's trials, best first", description = "Sorted by the metric as its goal says; a "
            + "finished trial before a pruned one of the same value; trials without a value last. params holds only "
            + "the parameters that vary.")
    @GetMapping("/sweeps/{id}/leaderboard")
    SweepViews.Leaderboard leaderboard(@PathVariable String id) {
        return views.leaderboard(sweep(id));
    }

    @Operation(summary = "A trial's intermediate values, by step, as its heartbeats reported them")
    @GetMapping("/sweeps/{id}/trials/{trial}/curve")
    List<SweepViews.CurvePoint> curve(@PathVariable String id, @PathVariable int trial) {
        return views.curve(sweep(id), trial).orElseThrow(() -> ApiProblem.notFound("trial", id + "/" + trial));
    }

    @Operation(summary = "Cancel the sweep", description = "No trial is created again; queued trials are cancelled, "
            + "running ones stopped (their Workers hear it on the next heartbeat). Cancelling again, or cancelling a done "
            + "sweep, changes nothing.")
    @PostMapping("/sweeps/{id}/cancel")
    SweepViews.SweepView cancel(@PathVariable String id) {
        Sweep sweep = sweep(id);
        sweeps.cancel(sweep.id(), clock.instant());
        driver.drive(sweep.id());
        return views.view(sweep(id));
    }

    @Operation(summary = "Give the sweep a larger budget", description = "maxJobs must be larger than the sweep's; a "
            + "done sweep runs again. 409 for a cancelled sweep.")
    @PostMapping("/sweeps/{id}/extend")
    SweepViews.SweepView extend(@PathVariable String id, @RequestParam int maxJobs) {
        Sweep sweep = sweep(id);
        Paging.checkRange("maxJobs", maxJobs, 1, properties.sweeps().maxJobs());
        if (sweep.status() == SweepStatus.CANCELLED) {
            throw ApiProblem.invalidState("sweep", "The sweep is cancelled; start a new one.");
        }
        if (maxJobs <= sweep.maxJobs()) {
            throw ApiProblem.invalidField("maxJobs", "maxJobs must be larger than the sweep's " + sweep.maxJobs() + ".");
        }
        if (!sweeps.extend(sweep.id(), maxJobs, clock.instant())) {
            throw ApiProblem.invalidState("sweep", "The sweep changed meanwhile (cancelled, or extended further); "
                    + "read it and ask again.");
        }
        driver.soon(sweep.id());
        return views.view(sweep(id));
    }

    @Operation(summary = "Re-run the sweep's failed trials", description = "Each as a new job of the same trial (same "
            + "parameters and seed; the old job kept, linked by rerunOf), started as slots free up. Only failures a "
            + "re-run may change (infrastructure, lost leases, timeouts, other 5xx); a 4xx the script reported stays "
            + "failed unless all=true. A done sweep runs again; 409 for a cancelled one.")
    @PostMapping("/sweeps/{id}/rerun-failed")
    Rerun rerunFailed(@PathVariable String id, @RequestParam(defaultValue = "false") boolean all) {
        Sweep sweep = sweep(id);
        if (sweep.status() == SweepStatus.CANCELLED) {
            throw ApiProblem.invalidState("sweep", "The sweep is cancelled: it re-runs nothing.");
        }
        driver.catchUp(sweep.id()); // a trial that failed a moment ago is one to re-run
        List<Integer> rerun = new ArrayList<>();
        for (Trial trial : trials.all(sweep.id().toHexString())) {
            // A trial refused at creation has no job to re-run (and would be refused again), even with all=true.
            boolean failed = !trial.live() && "failed".equals(trial.status()) && !trial.rerunRequested()
                    && !trial.jobless();
            if (failed && (all || trial.retryable()) && trials.requestRerun(trial, trial.jobId())) {
                rerun.add(trial.trial());
            }
        }
        if (!rerun.isEmpty()) {
            if (!sweeps.reopen(sweep.id(), clock.instant())) {
                // Cancelled since it was read (here or on another replica), maybe settled already, so no drive
                // would ever drop the flags: they go now, and the request is answered as for a cancelled sweep.
                trials.dropRerunRequests(sweep.id().toHexString());
                throw ApiProblem.invalidState("sweep", "The sweep was cancelled meanwhile: it re-runs nothing.");
            }
            driver.soon(sweep.id());
        }
        return new Rerun(id, sweep(id).status().wire(), rerun);
    }

    private Sweep sweep(String id) {
        ObjectId sweepId = Ids.parse(id, "sweep");
        return sweeps.find(sweepId).orElseThrow(() -> ApiProblem.notFound("sweep", id));
    }
}
