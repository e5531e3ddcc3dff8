package com.maddatum.boss.sweep;

import com.maddatum.boss.config.BossProperties;
import com.maddatum.boss.job.JobService;
import com.maddatum.boss.sweep.sample.Distributions;
import com.maddatum.boss.sweep.sample.Grid;
import com.maddatum.boss.sweep.sample.SearchSpace;
import com.maddatum.boss.web.ApiProblem;
import com.maddatum.boss.web.JsonInput;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bson.Document;
import org.bson.types.ObjectId;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Reads a {@code POST /sweeps} body into a new {@link Sweep}, or throws a 400 naming the first field at fault,
 * before anything is stored. {@code parameters} may be a list of {@code {path, ...}} or an object keyed by
 * path (a dotted path is not a key {@link JsonInput} lets through anywhere else, so it is read apart).
 * Besides each field's own rules, every value a parameter can take is put into the base and the job checked as
 * {@code POST /job/create} would check it, so that a value the sweep allowed is rarely refused later (only the
 * ends of a range and up to a bound of values are checked, one parameter at a time: a combination, or a value
 * between the ends, may still be refused, and that trial then ends failed).
 */
@Component
class SweepRequest {

    static final Set<String> FIELDS = Set.of("name", "projectName", "base", "parameters", "method", "maxJobs",
            "parallelism", "seed", "metric", "earlyStop", "truncate");
    /** 2^53: the largest integer below which a double holds every integer. */
    static final double MAX_EXACT_INTEGER = 9_007_199_254_740_992.0;
    static final Set<String> PARAMETER_FIELDS = Set.of("path", "values", "min", "max", "distribution");
    static final Set<String> DISTRIBUTIONS = Set.of(Distributions.UNIFORM, Distributions.LOG_UNIFORM,
            Distributions.INT_UNIFORM);
    /** Fields whose value decides the job's data: a base that varies none of them has its data pinned. */
    static final Set<String> DATA_FIELDS = Set.of("dataFileName", "dataSha256");
    static final int MAX_PARAMETERS = 32;
    static final int MAX_VALUES = 1000;
    /** Variants checked against the job rules, over all parameters; past it only the base is. */
    static final int MAX_CHECKED_VARIANTS = 2000;

    private final JsonInput json;
    private final JobService jobs;
    private final BossProperties.Sweeps limits;
    private final SecureRandom seeds = new SecureRandom();

    SweepRequest(JsonInput json, JobService jobs, BossProperties properties) {
        this.json = json;
        this.jobs = jobs;
        this.limits = properties.sweeps();
    }

    Sweep read(JsonNode body, ObjectId id, Instant now) {
        if (body == null || !body.isObject()) {
            throw ApiProblem.invalidField("body", "A sweep must be a JSON object.");
        }
        ObjectNode rest = ((ObjectNode) body).deepCopy();
        JsonNode parametersNode = rest.remove("parameters");
        if (rest.get("base") instanceof ObjectNode base) {
            // A trial's job as the base: each trial gets its own sweepParams (dotted keys, which a body may not have).
            base.remove(TrialJobs.SWEEP_PARAMS);
        }
        Document fields = json.toDocument(rest, "A sweep");
        for (String key : fields.keySet()) {
            if (!FIELDS.contains(key)) {
                throw ApiProblem.invalidField(key, "Unknown field '" + key + "'; a sweep has " + String.join(", ",
                        FIELDS.stream().sorted().toList()) + ".");
            }
        }
        String name = name(fields, "name", true);
        String method = method(fields.get("method"));
        Document base = base(fields.get("base"));
        String projectName = projectName(fields, base);
        List<ParameterSpec> parameters = parameters(parametersNode, base);
        int maxJobs = integer(fields, "maxJobs", null, 1, limits.maxJobs());
        int parallelism = integer(fields, "parallelism", 1, 1, limits.maxParallelism());
        long seed = seed(fields.get("seed"));
        Sweep.Metric metric = metric(fields.get("metric"));
        Sweep.EarlyStop earlyStop = earlyStop(fields.get("earlyStop"));
        boolean truncate = bool(fields, "truncate");
        Grid grid = Grid.of(new SearchSpace(parameters.stream().map(ParameterSpec::dimension).toList()));
        if (Proposer.GRID.equals(method)) {
            checkGrid(parameters, grid, maxJobs, truncate);
        }
        checkVariants(base, parameters);
        pinData(base, parameters);
        return new Sweep(id, name, projectName, method, base, parameters, maxJobs, parallelism, seed, metric, earlyStop,
                truncate, grid == null ? null : grid.size(), SweepStatus.RUNNING, now, 0, 0, 0, false, null, false, 0,
                null);
    }

    private static String method(Object value) {
        if (!(value instanceof String method) || !Proposer.METHODS.contains(method)) {
            throw ApiProblem.invalidField("method", "method must be one of grid, random, tpe.");
        }
        return method;
    }

    private Document base(Object value) {
        if (!(value instanceof Document base)) {
            throw ApiProblem.invalidField("base", "base is required: the job every trial starts from, a JSON object.");
        }
        // What the Boss writes into each trial's job; a base copied from a trial's job carries them.
        TrialJobs.RESERVED.stream().filter(f -> !f.equals("projectName")).forEach(base::remove);
        Document checked = ParamPaths.copy(base);
        checkJob(checked, "base");
        return base;
    }

    private static String projectName(Document fields, Document base) {
        String project = name(fields, "projectName", false);
        Object inBase = base.get("projectName");
        if (project != null && inBase != null && !project.equals(inBase)) {
            throw ApiProblem.invalidField("base.projectName", "base.projectName differs from the sweep's projectName; "
                    + "every trial runs in the sweep's project. Leave one of them out.");
        }
        return project != null ? project : inBase instanceof String s ? s : null;
    }

    private List<ParameterSpec> parameters(JsonNode node, Document base) {
        Map<String, Document> specs = new LinkedHashMap<>();
        if (node == null || node.isNull()) {
            throw ApiProblem.invalidField("parameters", "parameters is required: the job fields to vary.");
        }
        if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                Document spec = spec(node.get(i), "parameters[" + i + "]");
                if (!(spec.get("path") instanceof String path)) {
                    throw ApiProblem.invalidField("parameters[" + i + "].path", "Each parameter needs a path, such as "
                            + "learningRate or hiddenLayers.0.dropout.");
                }
                putOnce(specs, path, spec);
            }
        } else if (node.isObject()) {
            for (Map.Entry<String, JsonNode> entry : node.properties()) {
                Document spec = spec(entry.getValue(), "parameters[" + entry.getKey() + "]");
                if (spec.containsKey("path") && !entry.getKey().equals(spec.get("path"))) {
                    throw ApiProblem.invalidField("parameters[" + entry.getKey() + "].path",
                            "A parameter keyed by its path needs no other path.");
                }
                putOnce(specs, entry.getKey(), spec);
            }
        } else {
            throw ApiProblem.invalidField("parameters", "parameters must be a list of {path, values} or {path, min, "
                    + "max, distribution}, or an object keyed by path.");
        }
        if (specs.isEmpty()) {
            throw ApiProblem.invalidField("parameters", "parameters is empty: name at least one job field to vary.");
        }
        if (specs.size() > MAX_PARAMETERS) {
            throw ApiProblem.invalidField("parameters", "A sweep varies at most " + MAX_PARAMETERS + " parameters.");
        }
        List<ParameterSpec> parameters = new ArrayList<>();
        specs.forEach((path, spec) -> parameters.add(parameter(path, spec, base, parameters)));
        return parameters;
    }

    private Document spec(JsonNode node, String field) {
        if (node == null || !node.isObject()) {
            throw ApiProblem.invalidField(field, "A parameter is an object: {\"values\": [...]} or {\"min\": a, "
                    + "\"max\": b, \"distribution\": \"uniform\"}.");
        }
        return renamed(field, () -> json.toDocument(node, "A parameter"));
    }

    private static void putOnce(Map<String, Document> specs, String path, Document spec) {
        if (specs.put(path, spec) != null) {
            throw ApiProblem.invalidField("parameters[" + path + "]", "The path " + path + " is given twice.");
        }
    }

    private static ParameterSpec parameter(String path, Document spec, Document base, List<ParameterSpec> before) {
        String field = "parameters[" + path + "]";
        for (String key : spec.keySet()) {
            if (!PARAMETER_FIELDS.contains(key)) {
                throw ApiProblem.invalidField(field + "." + key, "Unknown field '" + key + "'; a parameter has path and "
                        + "either values, or min, max and distribution.");
            }
        }
        if (!ParamPaths.PATH.matcher(path).matches()) {
            throw ApiProblem.invalidField(field + ".path", "A path is dot-separated names and array indexes of "
                    + "letters, digits, '_' and '-', such as hiddenLayers.0.dropout.");
        }
        String top = path.split("\\.")[0];
        if (TrialJobs.RESERVED.contains(top)) {
            throw ApiProblem.invalidField(field + ".path", top + " is set by the Boss for every trial; it cannot vary.");
        }
        if (!ParamPaths.exists(base, path)) {
            throw ApiProblem.invalidField(field + ".path", "base has no " + path + ": a parameter varies a value the "
                    + "base has (a number steps into an array, e.g. hiddenLayers.0.dropout).");
        }
        for (ParameterSpec other : before) {
            if (ParamPaths.overlap(path, other.path())) {
                throw ApiProblem.invalidField(field + ".path", path + " and " + other.path() + " set the same value.");
            }
        }
        if (spec.containsKey("values")) {
            return valuesParameter(path, spec, field);
        }
        return rangeParameter(path, spec, field);
    }

    private static ParameterSpec valuesParameter(String path, Document spec, String field) {
        for (String range : new String[] {"min", "max", "distribution"}) {
            if (spec.containsKey(range)) {
                throw ApiProblem.invalidField(field + "." + range, "A parameter has values or a range, not both.");
            }
        }
        if (!(spec.get("values") instanceof List<?> given)) {
            throw ApiProblem.invalidField(field + ".values", "values must be a list, such as [0.001, 0.01, 0.1].");
        }
        if (given.isEmpty() || given.size() > MAX_VALUES) {
            throw ApiProblem.invalidField(field + ".values", "values must list 1 to " + MAX_VALUES + " values.");
        }
        // Repeats count once: the same value twice is the same configuration, which runs once.
        Map<String, Object> distinct = new LinkedHashMap<>();
        given.forEach(value -> distinct.putIfAbsent(CanonicalJson.write(value), value));
        return new ParameterSpec(path, new ArrayList<>(distinct.values()), null, null, null);
    }

    private static ParameterSpec rangeParameter(String path, Document spec, String field) {
        if (!(spec.get("min") instanceof Number minValue)) {
            throw ApiProblem.invalidField(field + ".min", "A parameter needs values (a list) or min, max and "
                    + "distribution.");
        }
        if (!(spec.get("max") instanceof Number maxValue)) {
            throw ApiProblem.invalidField(field + ".max", "max is required with min, a number.");
        }
        Object distribution = spec.getOrDefault("distribution", Distributions.UNIFORM);
        if (!(distribution instanceof String d) || !DISTRIBUTIONS.contains(d)) {
            throw ApiProblem.invalidField(field + ".distribution", "distribution must be uniform, log_uniform or "
                    + "int_uniform.");
        }
        double min = minValue.doubleValue();
        double max = maxValue.doubleValue();
        if (min > max) {
            throw ApiProblem.invalidField(field + ".min", "min (" + min + ") is greater than max (" + max + ").");
        }
        if (!Double.isFinite(max - min)) {
            // A draw is min + u * (max - min): an infinite width would put Infinity into the job.
            throw ApiProblem.invalidField(field + ".max", "The range from " + min + " to " + max + " is wider than a "
                    + "double can hold.");
        }
        if (Distributions.LOG_UNIFORM.equals(d) && min <= 0) {
            throw ApiProblem.invalidField(field + ".min", "A log_uniform range must lie above 0; min is " + min + ".");
        }
        if (Distributions.INT_UNIFORM.equals(d) && (!integral(minValue) || !integral(maxValue))) {
            throw ApiProblem.invalidField(field + (integral(minValue) ? ".max" : ".min"),
                    "An int_uniform range has integer ends.");
        }
        if (Distributions.INT_UNIFORM.equals(d) && (Math.abs(min) > MAX_EXACT_INTEGER || Math.abs(max) > MAX_EXACT_INTEGER)) {
            // Beyond 2^53 a double no longer holds every integer, and a grid's span no longer fits a long.
            throw ApiProblem.invalidField(field + (Math.abs(min) > MAX_EXACT_INTEGER ? ".min" : ".max"),
                    "An int_uniform range lies within -2^53..2^53 (" + MAX_EXACT_INTEGER + ").");
        }
        return new ParameterSpec(path, null, min, max, d);
    }

    private static void checkGrid(List<ParameterSpec> parameters, Grid grid, int maxJobs, boolean truncate) {
        if (grid == null) {
            ParameterSpec continuous = parameters.stream().filter(p -> !Grid.isFinite(p.dimension())).findFirst()
                    .orElseThrow();
            throw ApiProblem.invalidField("parameters[" + continuous.path() + "].distribution", "A grid lists values: "
                    + "give values, or an int_uniform range (each integer is a value). A continuous range has no grid; "
                    + "use random or tpe for it.");
        }
        if (grid.size() > maxJobs && !truncate) {
            throw ApiProblem.invalidField("maxJobs", "The grid has " + (grid.size() == Grid.UNBOUNDED ? "more than "
                    + Long.MAX_VALUE : grid.size()) + " configurations, more than maxJobs (" + maxJobs + "). Raise "
                    + "maxJobs, or send \"truncate\": true to run the first " + maxJobs + " in grid order.");
        }
    }

    /**
     * Every value each parameter can take, in the base, checked as a job: a list's values, a range's ends (as
     * the type drawn: an integer for int_uniform). One parameter at a time: each is a field of its own.
     */
    private void checkVariants(Document base, List<ParameterSpec> parameters) {
        int checked = 0;
        for (ParameterSpec parameter : parameters) {
            List<Object> values = parameter.values() != null ? parameter.values()
                    : Distributions.INT_UNIFORM.equals(parameter.distribution())
                            ? List.of(Distributions.integer((long) Math.ceil(parameter.min())),
                                    Distributions.integer((long) Math.floor(parameter.max())))
                            : List.of(parameter.min(), parameter.max());
            for (int i = 0; i < values.size() && checked < MAX_CHECKED_VARIANTS; i++, checked++) {
                Document variant = ParamPaths.copy(base);
                ParamPaths.set(variant, parameter.path(), values.get(i));
                String field = "parameters[" + parameter.path() + "]"
                        + (parameter.values() != null ? ".values[" + i + "]" : i == 0 ? ".min" : ".max");
                checkJob(variant, field);
            }
        }
    }

    /**
     * A base whose data no parameter varies trains every trial on the bytes its dataset has now: the
     * {@code dataSha256} the job rules resolve is recorded in it.
     */
    private void pinData(Document base, List<ParameterSpec> parameters) {
        if (parameters.stream().anyMatch(p -> DATA_FIELDS.contains(p.path().split("\\.")[0]))) {
            return;
        }
        Document resolved = ParamPaths.copy(base);
        jobs.prepare(resolved);
        if (resolved.get("dataSha256") != null) {
            base.put("dataSha256", resolved.get("dataSha256"));
        }
    }

    /** The job rules' verdict, with the field it names put under {@code prefix}. */
    private void checkJob(Document job, String prefix) {
        renamed(prefix, () -> {
            jobs.prepare(job);
            return null;
        });
    }

    private static <T> T renamed(String prefix, java.util.function.Supplier<T> check) {
        try {
            return check.get();
        } catch (ApiProblem problem) {
            if (problem.status().value() != 400) {
                throw problem;
            }
            Map<String, Object> properties = problem.toProblemDetail().getProperties();
            Object field = properties == null ? null : properties.get("field");
            throw ApiProblem.invalidField(field == null || "body".equals(field) ? prefix : prefix + "." + field,
                    problem.getMessage());
        }
    }

    private static Sweep.Metric metric(Object value) {
        if (value == null) {
            return new Sweep.Metric("loss", "minimize");
        }
        if (!(value instanceof Document metric)) {
            throw ApiProblem.invalidField("metric", "metric must be an object {\"name\": \"loss\", \"goal\": "
                    + "\"minimize\"}.");
        }
        Object name = metric.getOrDefault("name", "loss");
        if (!(name instanceof String n) || !TrialResult.canBeMetric(n)) {
            throw ApiProblem.invalidField("metric.name", "No outcome can have the metric '" + name + "': name loss, "
                    + "metric, metrics.<name>, or a numeric field the script reports, such as r2 (letters, digits and "
                    + "'_'); not one of the outcome's own fields such as status or exitCode.");
        }
        Object goal = metric.getOrDefault("goal", "minimize");
        if (!"minimize".equals(goal) && !"maximize".equals(goal)) {
            throw ApiProblem.invalidField("metric.goal", "metric.goal must be minimize or maximize.");
        }
        for (String key : metric.keySet()) {
            if (!key.equals("name") && !key.equals("goal")) {
                throw ApiProblem.invalidField("metric." + key, "A metric has name and goal only.");
            }
        }
        return new Sweep.Metric(n, (String) goal);
    }

    private static Sweep.EarlyStop earlyStop(Object value) {
        if (value == null) {
            return null;
        }
        if (!(value instanceof Document stop)) {
            throw ApiProblem.invalidField("earlyStop", "earlyStop must be an object {\"type\": \"median\", "
                    + "\"minSteps\": k}.");
        }
        if (!"median".equals(stop.get("type"))) {
            throw ApiProblem.invalidField("earlyStop.type", "earlyStop.type must be median (the median stopping rule).");
        }
        for (String key : stop.keySet()) {
            if (!Set.of("type", "minSteps", "minTrials").contains(key)) {
                throw ApiProblem.invalidField("earlyStop." + key, "earlyStop has type, minSteps and minTrials only.");
            }
        }
        int minSteps = integer(stop, "minSteps", 1, 0, 1_000_000, "earlyStop.");
        int minTrials = integer(stop, "minTrials", 3, 1, 10_000, "earlyStop.");
        return new Sweep.EarlyStop("median", minSteps, minTrials);
    }

    private long seed(Object value) {
        if (value == null) {
            // Chosen once and stored: the sweep can be repeated with it.
            return seeds.nextInt(Integer.MAX_VALUE);
        }
        if (!(value instanceof Integer || value instanceof Long) || ((Number) value).longValue() < 0) {
            throw ApiProblem.invalidField("seed", "seed must be an integer, 0 or more.");
        }
        return ((Number) value).longValue();
    }

    private static String name(Document fields, String field, boolean required) {
        Object value = fields.get(field);
        if (value == null && !required) {
            return null;
        }
        if (!(value instanceof String name) || name.isBlank() || name.length() > 128
                || name.chars().anyMatch(Character::isISOControl)) {
            throw ApiProblem.invalidField(field, field + (required ? " is required: " : " must be ")
                    + "1-128 characters, none of them control characters such as line breaks.");
        }
        return name;
    }

    private static int integer(Document fields, String field, Integer fallback, int min, int max) {
        return integer(fields, field, fallback, min, max, "");
    }

    private static int integer(Document fields, String field, Integer fallback, int min, int max, String prefix) {
        Object value = fields.get(field);
        if (value == null && fallback != null) {
            return fallback;
        }
        if (!(value instanceof Integer i) || i < min || i > max) {
            throw ApiProblem.invalidField(prefix + field, prefix + field + (value == null ? " is required, " : " must be ")
                    + "an integer from " + min + " to " + max + ".");
        }
        return i;
    }

    private static boolean bool(Document fields, String field) {
        Object value = fields.get(field);
        if (value != null && !(value instanceof Boolean)) {
            throw ApiProblem.invalidField(field, field + " must be true or false.");
        }
        return Boolean.TRUE.equals(value);
    }

    private static boolean integral(Number n) {
        return n instanceof Integer || n instanceof Long || n.doubleValue() == Math.rint(n.doubleValue());
    }
}
