package com.maddatum.boss.security;

import com.maddatum.boss.web.ApiProblem;
import com.maddatum.boss.web.ProblemWriter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Optional;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Checks the bearer token against {@link AccessRules} before anything else reads the request:
 * 401 for no token or an unknown one, 403 for a token whose role may not use the route (and for every
 * route the table does not list). Neither answer says which part was wrong. The caller is left on the
 * request for {@link NodeAccess}. With no tokens configured every request passes (see
 * {@link SecurityStartupCheck} for where that is allowed).
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 5)
class TokenAuthFilter extends OncePerRequestFilter {

    private final TokenVerifier tokens;
    private final ProblemWriter problems;

    TokenAuthFilter(TokenVerifier tokens, ProblemWriter problems) {
        this.tokens = tokens;
        this.problems = problems;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        // OPTIONS is a CORS preflight: it carries no token by design and returns no data.
        if (!tokens.enabled() || "OPTIONS".equals(request.getMethod())) {
            chain.doFilter(request, response);
            return;
        }
        AccessRules.Access access = AccessRules.access(request.getMethod(), pathInsideApplication(request));
        if (access.open()) {
            chain.doFilter(request, response);
            return;
        }
        Optional<Caller> caller = tokens.callerOf(bearer(request.getHeader("Authorization")));
        if (caller.isEmpty()) {
            response.setHeader("WWW-Authenticate", "Bearer");
            problems.write(response, ApiProblem.unauthorized());
        } else if (!access.admits(caller.get().role())) {
            problems.write(response, ApiProblem.forbidden());
        } else {
            request.setAttribute(Caller.ATTRIBUTE, caller.get());
            chain.doFilter(request, response);
        }
    }

    /** The raw path after the context path: what Spring MVC matches handlers against. */
    static String pathInsideApplication(HttpServletRequest request) {
        String uri = request.getRequestURI();
        String context = request.getContextPath();
        String path = context != null && !context.isEmpty() && uri.startsWith(context)
                ? uri.substring(context.length()) : uri;
        return path.isEmpty() ? "/" : path;
    }

    private static String bearer(String header) {
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return null;
        }
        String token = header.substring(7).trim();
        return token.isEmpty() ? null : token;
    }
}
