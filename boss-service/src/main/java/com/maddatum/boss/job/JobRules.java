package com.maddatum.boss.job;

import com.maddatum.boss.config.BossProperties;
import com.maddatum.boss.order.NewOrder;
import com.maddatum.boss.web.ApiProblem;
import com.maddatum.boss.web.Names;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.bson.Document;
import org.springframework.stereotype.Component;

/**
 * What a job must satisfy beyond being safe JSON ({@link com.maddatum.boss.web.JsonInput}), and
 * the scheduling fields this project reads from it. Everything else in a job is the script's
 * business and is stored untouched.
 *
 * <ul>
 *   <li>{@code scriptName} (required): a file name in the worker's scripts directory, no paths.
 *   <li>{@code dataFileName}: a file name, no paths: a dataset's name, or a file in the worker's data directory
 *       ({@link DataResolution} settles which, and records a dataset's bytes as {@code dataSha256}).
 *   <li>{@code projectName}: groups jobs for listings and the leaderboard.
 *   <li>{@code sweepId}: the sweep a job belongs to; listings filter on it.
 *   <li>{@code priority}: integer, higher first; default 0.
 *   <li>{@code maxAttempts}: 1-100; default {@code boss.lease.default-max-attempts}.
 *   <li>{@code requiredLabels}: labels a worker must have registered to be given this job.
 *   <li>{@code timeoutSeconds}: positive; the worker's limit for this job.
 *   <li>{@code minGpuMemoryMiB}: an integer from 1 to {@link #MAX_GPU_MEMORY_MIB}; only a slot whose GPU
 *       has that much memory is given the job.
 *   <li>{@code seed}: an integer from 0 to 2^32-1 (NumPy's range) that the script seeds its random
 *       numbers with; the Boss chooses one when the job has none ({@link Seeds}).
 * </ul>
 */
@Component
class JobRules {

    static final Pattern SCRIPT_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}\\.py");
    static final Pattern LABEL = Pattern.compile(NewOrder.LABEL);
    /** 10 TB: far above any GPU made, low enough that nobody mistakes bytes or KiB for MiB unnoticed. */
    static final int MAX_GPU_MEMORY_MIB = 10_000_000;

    private final int defaultMaxAttempts;

    JobRules(BossProperties properties) {
        this.defaultMaxAttempts = properties.lease().defaultMaxAttempts();
    }

    /** Checks the job and returns the order it needs, or throws naming the first bad field. */
    NewOrder check(Document job) {
        if (job.containsKey("_id")) {
            throw ApiProblem.invalidField("_id", "The Boss assigns _id; leave it out.");
        }
        String script = requiredString(job, "scriptName");
        if (!SCRIPT_NAME.matcher(script).matches()) {
            throw ApiProblem.invalidField("scriptName",
                    "scriptName must be a .py file name of letters, digits, '_', '.' and '-', with no path.");
        }
        String dataFile = optionalString(job, "dataFileName");
        if (dataFile != null && !Names.isPlainFileName(dataFile)) {
            throw ApiProblem.invalidField("dataFileName", "dataFileName must be " + Names.PLAIN_FILE_NAME_RULE + ".");
        }
        String project = name(job, "projectName");
        String sweep = name(job, "sweepId");
        int priority = optionalInt(job, "priority", 0, -1_000_000, 1_000_000);
        int maxAttempts = optionalInt(job, "maxAttempts", defaultMaxAttempts, 1, 100);
        Double timeoutSeconds = optionalPositiveNumber(job, "timeoutSeconds");
        Long minGpuMemoryMiB = optionalLong(job, "minGpuMemoryMiB", 1, MAX_GPU_MEMORY_MIB);
        checkSeed(job.get("seed"));
        return new NewOrder(null, priority, labels(job), project, script, maxAttempts, timeoutSeconds, sweep,
                minGpuMemoryMiB);
    }

    /** A name jobs are grouped by: memory keeps a listing per name, and logs and the dashboard show it. */
    private static String name(Document job, String field) {
        String name = optionalString(job, field);
        if (name != null && (name.isBlank() || name.length() > 128 || name.chars().anyMatch(Character::isISOControl))) {
            // Control characters would let a name forge lines in logs and break the dashboard.
            throw ApiProblem.invalidField(field, field + " must be 1-128 characters, none of them control "
                    + "characters such as line breaks.");
        }
        return name;
    }

    private static void checkSeed(Object seed) {
        boolean ok = seed == null
                || (seed instanceof Integer i && i >= 0)
                || (seed instanceof Long l && l >= 0 && l <= Seeds.MAX);
        if (!ok) {
            throw ApiProblem.invalidField("seed", "seed must be an integer from 0 to " + Seeds.MAX + ".");
        }
    }

    private static String requiredString(Document job, String field) {
        String value = optionalString(job, field);
        if (value == null) {
            throw ApiProblem.invalidField(field, field + " is required.");
        }
        return value;
    }

    private static String optionalString(Document job, String field) {
        Object value = job.get(field);
        if (value == null) {
            return null;
        }
        if (!(value instanceof String s)) {
            throw ApiProblem.invalidField(field, field + " must be a string.");
        }
        return s;
    }

    private static int optionalInt(Document job, String field, int fallback, int min, int max) {
        Object value = job.get(field);
        if (value == null) {
            return fallback;
        }
        if (!(value instanceof Integer i) || i < min || i > max) {
            throw ApiProblem.invalidField(field, field + " must be an integer from " + min + " to " + max + ".");
        }
        return i;
    }

    /** As {@link #optionalInt} with no default; a 64-bit integer in range is as good as a 32-bit one. */
    private static Long optionalLong(Document job, String field, long min, long max) {
        Object value = job.get(field);
        if (value == null) {
            return null;
        }
        boolean integer = value instanceof Integer || value instanceof Long;
        if (!integer || ((Number) value).longValue() < min || ((Number) value).longValue() > max) {
            throw ApiProblem.invalidField(field, field + " must be an integer from " + min + " to " + max + ".");
        }
        return ((Number) value).longValue();
    }

    private static Double optionalPositiveNumber(Document job, String field) {
        Object value = job.get(field);
        if (value == null) {
            return null;
        }
        if (!(value instanceof Number n) || n.doubleValue() <= 0) {
            throw ApiProblem.invalidField(field, field + " must be a positive number.");
        }
        return n.doubleValue();
    }

    private static List<String> labels(Document job) {
        Object value = job.get("requiredLabels");
        if (value == null) {
            return List.of();
        }
        if (!(value instanceof List<?> list) || list.size() > 32) {
            throw ApiProblem.invalidField("requiredLabels", "requiredLabels must be an array of at most 32 labels.");
        }
        List<String> labels = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            if (!(list.get(i) instanceof String label) || !LABEL.matcher(label).matches()) {
                throw ApiProblem.invalidField("requiredLabels[" + i + "]",
                        "A label is 1-64 letters, digits, '_', '.', ':' or '-'.");
            }
            labels.add(label);
        }
        return labels;
    }
}
