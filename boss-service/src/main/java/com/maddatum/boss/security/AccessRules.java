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
 * match wins. A route not in the table needs a valid token of either role (it then answers 404 or
 * 405); only health and info are open, so that load balancers and probes need no secret.
 */
final class AccessRules {

    static final Set<Role> OPEN = EnumSet.noneOf(Role.class);
    static final Set<Role> ANY = EnumSet.allOf(Role.class);
    private static final Set<Role> SUBMITTER = EnumSet.of(Role.SUBMITTER);
    private static final Set<Role> WORKER = EnumSet.of(Role.WORKER);

    private record Rule(HttpMethod method, PathPattern pattern, Set<Role> roles) {}

    private static final PathPatternParser PARSER = new PathPatternParser();

    private static final List<Rule> RULES = List.of(
            rule(HttpMethod.GET, "/actuator/health/**", OPEN),
            rule(HttpMethod.GET, "/actuator/info", OPEN),
            rule(HttpMethod.POST, "/job/create", SUBMITTER),
            rule(HttpMethod.POST, "/jobs/{id}/cancel", SUBMITTER),
            rule(HttpMethod.GET, "/jobs", SUBMITTER),
            rule(HttpMethod.GET, "/jobs/{id}", SUBMITTER),
            rule(HttpMethod.GET, "/retrieve/order", SUBMITTER),
            rule(HttpMethod.GET, "/retrieve/outcome/{jobId}", SUBMITTER),
            rule(HttpMethod.GET, "/workers", SUBMITTER),
            rule(HttpMethod.GET, "/projects/{name}/leaderboard", SUBMITTER),
            rule(HttpMethod.GET, "/projects/{name}/outcomes", SUBMITTER),
            rule(HttpMethod.GET, "/projects", SUBMITTER),
            rule(HttpMethod.GET, "/jobs/{id}/logs", SUBMITTER),
            rule(HttpMethod.GET, "/stats", SUBMITTER),
            rule(HttpMethod.GET, "/retrieve/job/{id}", ANY), // workers fetch their job; people read it
            rule(HttpMethod.POST, "/worker-node/create", WORKER),
            rule(HttpMethod.POST, "/bored/{node}", WORKER),
            rule(HttpMethod.POST, "/orders/{id}/heartbeat", WORKER),
            rule(HttpMethod.POST, "/callback", WORKER),
            rule(HttpMethod.POST, "/orders/{id}/logs", WORKER),
            // The dashboard's page and assets, and the API docs, carry no data: the page asks for a
            // submitter token and sends it with every API call.
            rule(HttpMethod.GET, "/", OPEN),
            rule(HttpMethod.GET, "/index.html", OPEN),
            rule(HttpMethod.GET, "/dashboard/**", OPEN),
            rule(HttpMethod.GET, "/webjars/**", OPEN),
            rule(HttpMethod.GET, "/favicon.ico", OPEN),
            rule(HttpMethod.GET, "/swagger-ui.html", OPEN),
            rule(HttpMethod.GET, "/swagger-ui/**", OPEN),
            rule(HttpMethod.GET, "/v3/api-docs/**", OPEN),
            rule(HttpMethod.GET, "/v3/api-docs", OPEN));

    private AccessRules() {}

    private static Rule rule(HttpMethod method, String pattern, Set<Role> roles) {
        return new Rule(method, PARSER.parse(pattern), roles);
    }

    /** The roles allowed to call this route ({@link #OPEN}: anyone, no token needed). */
    static Set<Role> allowed(String method, String path) {
        PathContainer container = PathContainer.parsePath(path);
        for (Rule rule : RULES) {
            if (rule.method().matches(method) && rule.pattern().matches(container)) {
                return rule.roles();
            }
        }
        return ANY;
    }
}
