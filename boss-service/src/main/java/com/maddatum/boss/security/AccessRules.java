package com.maddatum.boss.security;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.springframework.http.HttpMethod;
import org.springframework.http.server.PathContainer;
import org.springframework.web.util.pattern.PathPattern;
import org.springframework.web.util.pattern.PathPatternParser;

/**
 * Which role may call which route: the whole access policy in one table, read top to bottom, first
 * match wins, and a route the table does not list is denied to every token. HEAD is treated as GET
 * (it runs the same handler). Paths are matched inside the application, after any context path, the
 * same way Spring MVC matches them to handlers.
 */
final class AccessRules {

    /**
     * Who may call a route: nobody, anybody (no token needed), or the holders of a token of one of
     * {@code roles}. The constants are the sets the table uses; compare with {@code equals}.
     */
    record Access(boolean open, Set<Role> roles) {

        /** Anyone, no token needed: health, the dashboard's page and the API docs, which hold no data. */
        static final Access OPEN = new Access(true, Set.of());
        /** Nobody: what the table does not list. */
        static final Access DENIED = new Access(false, Set.of());
        static final Access SUBMITTER = of(Role.SUBMITTER);
        static final Access WORKER = of(Role.WORKER);
        static final Access OPERATOR = of(Role.OPERATOR);
        /** People and machines that read jobs: every role but the metrics token, which reads metrics only. */
        static final Access ANY_ROLE = of(Role.SUBMITTER, Role.WORKER, Role.OPERATOR);

        Access {
            roles = roles.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(roles));
        }

        static Access of(Role first, Role... more) {
            return new Access(false, EnumSet.of(first, more));
        }

        boolean admits(Role role) {
            return open || roles.contains(role);
        }
    }

    private record Rule(HttpMethod method, PathPattern pattern, Access access) {}

    private static final PathPatternParser PARSER = new PathPatternParser();

    private static final List<Rule> RULES = List.of(
            rule(HttpMethod.GET, "/actuator/health", Access.OPEN),
            rule(HttpMethod.GET, "/actuator/health/**", Access.OPEN),
            rule(HttpMethod.GET, "/actuator/info", Access.OPEN),
            rule(HttpMethod.GET, "/actuator", Access.ANY_ROLE),
            rule(HttpMethod.GET, "/actuator/prometheus", Access.of(Role.SUBMITTER, Role.WORKER, Role.OPERATOR,
                    Role.METRICS)),
            rule(HttpMethod.POST, "/job/create", Access.SUBMITTER),
            rule(HttpMethod.POST, "/jobs/{id}/cancel", Access.SUBMITTER),
            rule(HttpMethod.POST, "/jobs/{id}/rerun", Access.SUBMITTER),
            rule(HttpMethod.GET, "/jobs", Access.SUBMITTER),
            rule(HttpMethod.GET, "/jobs/compare", Access.SUBMITTER),
            rule(HttpMethod.GET, "/jobs/{id}", Access.SUBMITTER),
            rule(HttpMethod.GET, "/jobs/{id}/logs", Access.SUBMITTER),
            // A job's artifacts are read like the job; Workers fetch the blobs of their inputs by hash instead.
            rule(HttpMethod.GET, "/jobs/{id}/artifacts", Access.SUBMITTER),
            rule(HttpMethod.GET, "/jobs/{id}/artifacts/{*name}", Access.SUBMITTER),
            // Sweeps are the submitters', like the jobs they create.
            rule(HttpMethod.POST, "/sweeps", Access.SUBMITTER),
            rule(HttpMethod.GET, "/sweeps", Access.SUBMITTER),
            rule(HttpMethod.GET, "/sweeps/{id}", Access.SUBMITTER),
            rule(HttpMethod.GET, "/sweeps/{id}/leaderboard", Access.SUBMITTER),
            rule(HttpMethod.GET, "/sweeps/{id}/trials/{trial}/curve", Access.SUBMITTER),
            rule(HttpMethod.POST, "/sweeps/{id}/cancel", Access.SUBMITTER),
            rule(HttpMethod.POST, "/sweeps/{id}/extend", Access.SUBMITTER),
            rule(HttpMethod.POST, "/sweeps/{id}/rerun-failed", Access.SUBMITTER),
            rule(HttpMethod.GET, "/retrieve/order", Access.SUBMITTER),
            rule(HttpMethod.GET, "/retrieve/outcome/{jobId}", Access.SUBMITTER),
            rule(HttpMethod.GET, "/workers", Access.of(Role.SUBMITTER, Role.OPERATOR)),
            // A Worker's preStop polls its own node until it is drained; the controller checks the node.
            rule(HttpMethod.GET, "/workers/{name}", Access.of(Role.SUBMITTER, Role.OPERATOR, Role.WORKER)),
            // A Worker may drain its own node (a Kubernetes preStop), never undrain: that is an operator's call.
            rule(HttpMethod.POST, "/workers/{name}/drain", Access.of(Role.OPERATOR, Role.WORKER)),
            rule(HttpMethod.POST, "/workers/{name}/undrain", Access.OPERATOR),
            // What an autoscaler reads (KEDA's metrics-api trigger), with a token that can read nothing else.
            rule(HttpMethod.GET, "/fleet/demand", Access.of(Role.SUBMITTER, Role.OPERATOR, Role.METRICS)),
            rule(HttpMethod.GET, "/projects", Access.SUBMITTER),
            rule(HttpMethod.GET, "/projects/{name}/leaderboard", Access.SUBMITTER),
            rule(HttpMethod.GET, "/projects/{name}/outcomes", Access.SUBMITTER),
            rule(HttpMethod.GET, "/stats", Access.SUBMITTER),
            rule(HttpMethod.GET, "/retrieve/job/{id}", Access.ANY_ROLE), // workers fetch their job; people read it
            rule(HttpMethod.POST, "/worker-node/create", Access.WORKER),
            rule(HttpMethod.POST, "/bored/{node}", Access.WORKER),
            rule(HttpMethod.POST, "/orders/{id}/heartbeat", Access.WORKER),
            rule(HttpMethod.POST, "/orders/{id}/logs", Access.WORKER),
            rule(HttpMethod.POST, "/callback", Access.WORKER),
            // Blobs by hash: Workers fetch a job's data and inputs and upload its artifacts; people may read them.
            // Only Workers upload: people's bytes come in as datasets, which no job takes as an input (see
            // ModelInputs), so no submitter can hand a Worker a file that a script would load as code.
            rule(HttpMethod.GET, "/blobs/{sha256}", Access.ANY_ROLE),
            rule(HttpMethod.POST, "/blobs", Access.WORKER),
            // Datasets are the submitters': they upload what their jobs name.
            rule(HttpMethod.POST, "/datasets", Access.SUBMITTER),
            rule(HttpMethod.GET, "/datasets", Access.SUBMITTER),
            rule(HttpMethod.GET, "/datasets/{name}", Access.SUBMITTER),
            rule(HttpMethod.GET, "/datasets/{name}/content", Access.SUBMITTER),
            rule(HttpMethod.DELETE, "/datasets/{name}", Access.SUBMITTER),
            // The dashboard's page and assets, and the API docs, carry no data: the page asks for a
            // submitter token and sends it with every API call.
            rule(HttpMethod.GET, "/", Access.OPEN),
            rule(HttpMethod.GET, "/index.html", Access.OPEN),
            rule(HttpMethod.GET, "/dashboard/**", Access.OPEN),
            rule(HttpMethod.GET, "/webjars/**", Access.OPEN),
            rule(HttpMethod.GET, "/favicon.ico", Access.OPEN),
            rule(HttpMethod.GET, "/swagger-ui.html", Access.OPEN),
            rule(HttpMethod.GET, "/swagger-ui/**", Access.OPEN),
            rule(HttpMethod.GET, "/v3/api-docs", Access.OPEN),
            rule(HttpMethod.GET, "/v3/api-docs.yaml", Access.OPEN),
            rule(HttpMethod.GET, "/v3/api-docs/**", Access.OPEN));

    private AccessRules() {}

    private static Rule rule(HttpMethod method, String pattern, Access access) {
        return new Rule(method, PARSER.parse(pattern), access);
    }

    /** Who may call {@code method} on {@code path} (the path inside the application). */
    static Access access(String method, String path) {
        String effective = "HEAD".equals(method) ? "GET" : method;
        PathContainer container = PathContainer.parsePath(path);
        for (Rule rule : RULES) {
            if (rule.method().matches(effective) && rule.pattern().matches(container)) {
                return rule.access();
            }
        }
        return Access.DENIED;
    }
}
