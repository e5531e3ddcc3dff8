package com.maddatum.boss.security;

import com.maddatum.boss.web.ApiProblem;
import com.maddatum.boss.web.ProblemWriter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Collections;
import java.util.Set;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Checks the bearer token against {@link AccessRules} before anything else reads the request:
 * 401 for no token or an unknown one, 403 for a token whose role may not use the route. Neither
 * answer says which part was wrong. With no tokens configured every request passes (see
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
        if (!tokens.enabled() || "OPTIONS".equals(request.getMethod())) {
            chain.doFilter(request, response);
            return;
        }
        Set<Role> allowed = AccessRules.allowed(request.getMethod(), request.getRequestURI());
        if (allowed.isEmpty()) {
            chain.doFilter(request, response);
            return;
        }
        Set<Role> held = tokens.rolesOf(bearer(request.getHeader("Authorization")));
        if (held.isEmpty()) {
            response.setHeader("WWW-Authenticate", "Bearer");
            problems.write(response, ApiProblem.unauthorized());
        } else if (Collections.disjoint(held, allowed)) {
            problems.write(response, ApiProblem.forbidden());
        } else {
            chain.doFilter(request, response);
        }
    }

    private static String bearer(String header) {
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return null;
        }
        String token = header.substring(7).trim();
        return token.isEmpty() ? null : token;
    }
}
