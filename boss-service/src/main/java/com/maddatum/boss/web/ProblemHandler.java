package com.maddatum.boss.web;

import java.net.URI;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.validation.FieldError;
import org.springframework.web.bind.MethodArgumentNotValidException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.context.request.WebRequest;
import org.springframework.web.method.annotation.MethodArgumentTypeMismatchException;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.DatabindException;

/**
 * The one place where failures become RFC 9457 problem details: a title a person understands, the
 * offending field named where there is one, and never a stack trace.
 */
@RestControllerAdvice
class ProblemHandler extends ResponseEntityExceptionHandler {

    private static final Logger log = LoggerFactory.getLogger(ProblemHandler.class);

    @ExceptionHandler(ApiProblem.class)
    ResponseEntity<ProblemDetail> handleApiProblem(ApiProblem problem) {
        return respond(problem.status(), problem.toProblemDetail());
    }

    @ExceptionHandler(MethodArgumentTypeMismatchException.class)
    ResponseEntity<ProblemDetail> handleTypeMismatch(MethodArgumentTypeMismatchException e) {
        ApiProblem problem = ApiProblem.invalidField(e.getName(),
                "'" + e.getValue() + "' is not a valid value for '" + e.getName() + "'.");
        return handleApiProblem(problem);
    }

    @ExceptionHandler(Exception.class)
    ResponseEntity<ProblemDetail> handleUnexpected(Exception e) {
        log.error("unexpected failure type={}", e.getClass().getName(), e);
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.INTERNAL_SERVER_ERROR,
                "The Boss failed to handle this request; the failure is logged.");
        problem.setType(URI.create(ApiProblem.TYPE_BASE + "internal"));
        problem.setTitle("Internal error");
        return respond(HttpStatus.INTERNAL_SERVER_ERROR, problem);
    }

    @Override
    protected ResponseEntity<Object> handleMethodArgumentNotValid(MethodArgumentNotValidException e,
            HttpHeaders headers, HttpStatusCode status, WebRequest request) {
        FieldError first = e.getBindingResult().getFieldError();
        String field = first == null ? "body" : first.getField();
        String message = first == null ? "The request is invalid." : "'" + field + "' " + first.getDefaultMessage() + ".";
        return new ResponseEntity<>(ApiProblem.invalidField(field, message).toProblemDetail(), problemHeaders(),
                HttpStatus.BAD_REQUEST);
    }

    @Override
    protected ResponseEntity<Object> handleHttpMessageNotReadable(HttpMessageNotReadableException e,
            HttpHeaders headers, HttpStatusCode status, WebRequest request) {
        // Well-formed JSON whose value has the wrong type for a typed body (a record): name the field.
        if (e.getCause() instanceof DatabindException bind && !bind.getPath().isEmpty()) {
            String field = bind.getPath().stream()
                    .map(ref -> ref.getPropertyName() != null ? ref.getPropertyName() : "[" + ref.getIndex() + "]")
                    .reduce((a, b) -> b.startsWith("[") ? a + b : a + "." + b).orElse("body");
            return new ResponseEntity<>(ApiProblem.invalidField(field, "'" + field + "' has the wrong type.")
                    .toProblemDetail(), problemHeaders(), HttpStatus.BAD_REQUEST);
        }
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.BAD_REQUEST,
                "The body is missing or is not well-formed JSON" + where(e) + ".");
        problem.setType(URI.create(ApiProblem.TYPE_BASE + "malformed-json"));
        problem.setTitle("The request body is not valid JSON");
        problem.setProperty("field", "body");
        return new ResponseEntity<>(problem, problemHeaders(), HttpStatus.BAD_REQUEST);
    }

    /** Framework failures (unknown route, wrong method, media type...) get a typed problem too. */
    @Override
    protected ResponseEntity<Object> createResponseEntity(Object body, HttpHeaders headers,
            HttpStatusCode statusCode, WebRequest request) {
        if (body instanceof ProblemDetail problem
                && (problem.getType() == null || "about:blank".equals(problem.getType().toString()))) {
            problem.setType(URI.create(ApiProblem.TYPE_BASE + slug(statusCode)));
        }
        HttpHeaders merged = new HttpHeaders();
        merged.addAll(headers);
        merged.setContentType(MediaType.APPLICATION_PROBLEM_JSON);
        return new ResponseEntity<>(body, merged, statusCode);
    }

    private static String where(HttpMessageNotReadableException e) {
        if (e.getCause() instanceof JacksonException jackson && jackson.getLocation() != null) {
            return " (line " + jackson.getLocation().getLineNr() + ", column "
                    + jackson.getLocation().getColumnNr() + ")";
        }
        return "";
    }

    private static String slug(HttpStatusCode status) {
        return switch (status.value()) {
            case 404 -> "not-found";
            case 405 -> "method-not-allowed";
            case 406 -> "not-acceptable";
            case 413 -> "payload-too-large";
            case 415 -> "unsupported-media-type";
            case 400 -> "bad-request";
            default -> "http-" + status.value();
        };
    }

    private static HttpHeaders problemHeaders() {
        HttpHeaders headers = new HttpHeaders();
        headers.setContentType(MediaType.APPLICATION_PROBLEM_JSON);
        return headers;
    }

    private static ResponseEntity<ProblemDetail> respond(HttpStatus status, ProblemDetail problem) {
        return new ResponseEntity<>(problem, problemHeaders(), status);
    }
}
