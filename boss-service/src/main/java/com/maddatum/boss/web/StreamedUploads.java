package com.maddatum.boss.web;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.util.MultiValueMap;
import org.springframework.web.util.UriComponentsBuilder;
import org.springframework.web.util.UriUtils;

/**
 * The routes whose bodies are uploads streamed to storage ({@code POST /blobs} in the blob package,
 * {@code POST /datasets} in the dataset package). Their bodies must reach the route unread:
 *
 * <ul>
 *   <li>{@link BodyLimitFilter} would buffer them and cap them at 1 MiB;
 *   <li>{@code curl --data-binary} sends {@code application/x-www-form-urlencoded}, and the first
 *       {@code getParameter} would have Tomcat read such a body as form fields (and Spring's
 *       {@code @RequestBody} rebuild it from them);
 *   <li>a multipart body would be spooled to temporary files by the servlet multipart support, which is
 *       therefore off ({@code spring.servlet.multipart.enabled: false} in {@code application.yml}): an upload
 *       must not need twice its size in free disk. The dataset route parses multipart itself, as a stream.
 * </ul>
 */
public final class StreamedUploads {

    private static final List<String> PATHS = List.of("/blobs", "/datasets");

    private StreamedUploads() {}

    static boolean matches(HttpServletRequest request) {
        if (!"POST".equals(request.getMethod())) {
            return false;
        }
        String uri = request.getRequestURI();
        String context = request.getContextPath();
        String path = context != null && !context.isEmpty() && uri.startsWith(context)
                ? uri.substring(context.length()) : uri;
        return PATHS.contains(path);
    }

    /** The request with its parameters read from the query string alone: the body is never parsed as a form. */
    static HttpServletRequest queryParametersOnly(HttpServletRequest request) {
        return new QueryParameters(request);
    }

    private static final class QueryParameters extends HttpServletRequestWrapper {
        private final Map<String, String[]> parameters;

        QueryParameters(HttpServletRequest request) {
            super(request);
            Map<String, String[]> parsed = new LinkedHashMap<>();
            String query = request.getQueryString();
            if (query != null) {
                MultiValueMap<String, String> raw = UriComponentsBuilder.newInstance().query(query).build()
                        .getQueryParams();
                raw.forEach((name, values) -> parsed.put(decode(name), values.stream()
                        .map(v -> v == null ? "" : decode(v)).toArray(String[]::new)));
            }
            this.parameters = Collections.unmodifiableMap(parsed);
        }

        private static String decode(String value) {
            // As a form decoder would: '+' is a space in a query string. A malformed escape is kept as sent,
            // for the route to refuse by name.
            try {
                return UriUtils.decode(value.replace("+", "%20"), java.nio.charset.StandardCharsets.UTF_8);
            } catch (IllegalArgumentException malformed) {
                return value;
            }
        }

        @Override
        public String getParameter(String name) {
            String[] values = parameters.get(name);
            return values == null || values.length == 0 ? null : values[0];
        }

        @Override
        public Map<String, String[]> getParameterMap() {
            return parameters;
        }

        @Override
        public Enumeration<String> getParameterNames() {
            return Collections.enumeration(parameters.keySet());
        }

        @Override
        public String[] getParameterValues(String name) {
            return parameters.get(name);
        }
    }
}
