package com.maddatum.boss.security;

import java.util.List;
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

    /** Who may call a route. */
    enum Access {
        /** Anyone, no token needed: health, the dashboard's page and the API docs, which hold no data. */
        OPEN,
        SUBMITTER,
        WORKER,
        /** A valid token of either role. */
        ANY_ROLE,
        /** Nobody: what the table does not list. */
        DENIED;

        boolean admits(Role role) {
            return switch (this) {
                case OPEN, ANY_ROLE -> true;
                case SUBMITTER -> role == Role.SUBMITTER;
                case WORKER -> role == Role.WORKER;
                case DENIED -> false;
            };
        }
    }

    private record Rule(HttpMethod method, PathPattern pattern, Access access) {}

    private static final PathPatternParser PARSER = new PathPatternParser();

    private static final List<Rule> RULES = List.of(
            rule(HttpMethod.GET, "/actuator/health", Access.OPEN),
            rule(HttpMethod.GET, "/actuator/health/**", Access.OPEN),
            rule(HttpMethod.GET, "/actuator/info", Access.OPEN),
            rule(HttpMethod.GET, "/actuator", Access.ANY_ROLE),
            rule(HttpMethod.GET, "/actuator/prometheus", Access.ANY_ROLE),
            rule(HttpMethod.POST, "/job/create", Access.SUBMITTER),
            rule(HttpMethod.POST, "/jobs/{id}/cancel", Access.SUBMITTER),
            rule(HttpMethod.POST, "/jobs/{id}/rerun", Access.SUBMITTER),
            rule(HttpMethod.GET, "/jobs", Access.SUBMITTER),
            rule(HttpMethod.GET, "/jobs/compare", Access.SUBMITTER),
            rule(HttpMethod.GET, "/jobs/{id}", Access.SUBMITTER),
            rule(HttpMethod.GET, "/jobs/{id}/logs", Access.SUBMITTER),
            rule(HttpMethod.GET, "/retrieve/order", Access.SUBMITTER),
            rule(HttpMethod.GET, "/retrieve/outcome/{jobId}", Access.SUBMITTER),
            rule(HttpMethod.GET, "/workers", Access.SUBMITTER),
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
