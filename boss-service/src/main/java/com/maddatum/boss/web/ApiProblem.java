package com.maddatum.boss.web;

import java.net.URI;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;

/**
 * A failure the client caused or should know about, rendered as an RFC 9457 problem detail by
 * {@link ProblemHandler}. Thrown instead of returning error bodies so controllers stay linear.
 */
public final class ApiProblem extends RuntimeException {

    /** Problem types are documented in the README under "Errors". */
    public static final String TYPE_BASE = "https://maddatum.com/problems/";

    private final HttpStatus status;
    private final String type;
    private final String title;
    private final String field;

    private ApiProblem(HttpStatus status, String type, String title, String detail, String field) {
        super(detail, null, false, false);
        this.status = status;
        this.type = type;
        this.title = title;
        this.field = field;
    }

    public static ApiProblem invalidField(String field, String detail) {
        return new ApiProblem(HttpStatus.BAD_REQUEST, "invalid-field", "A field of the request is invalid",
                detail, field);
    }

    public static ApiProblem invalidHeader(String header, String detail) {
        return new ApiProblem(HttpStatus.BAD_REQUEST, "invalid-header", "A header of the request is invalid",
                detail, header);
    }

    /** An idempotency key sent again with a request other than the one it was first used for. */
    public static ApiProblem keyReused(String header, String detail) {
        return new ApiProblem(HttpStatus.UNPROCESSABLE_CONTENT, "idempotency-key-reused",
                "This idempotency key was used for a different request", detail, header);
    }

    /** An idempotency key whose first request is still being answered. */
    public static ApiProblem keyInUse(String header, String detail) {
        return new ApiProblem(HttpStatus.CONFLICT, "idempotency-key-in-use",
                "A request with this idempotency key is still being processed", detail, header);
    }

    public static ApiProblem notFound(String what, String id) {
        return new ApiProblem(HttpStatus.NOT_FOUND, "not-found", "No such " + what,
                "No " + what + " has the id '" + id + "'.", "id");
    }

    /** A thing looked up by name (an artifact of a job) that is not there; {@code field} is where the name was. */
    public static ApiProblem notFoundNamed(String what, String field, String detail) {
        return new ApiProblem(HttpStatus.NOT_FOUND, "not-found", "No such " + what, detail, field);
    }

    /** A thing that existed and was removed on purpose (a pruned artifact): asking again will not help. */
    public static ApiProblem gone(String what, String field, String detail) {
        return new ApiProblem(HttpStatus.GONE, "gone", "The " + what + " is no longer kept", detail, field);
    }

    public static ApiProblem staleAttempt(String detail) {
        return new ApiProblem(HttpStatus.CONFLICT, "stale-attempt",
                "The order is no longer held by this attempt", detail, "attempt");
    }

    public static ApiProblem conflict(String detail) {
        return new ApiProblem(HttpStatus.CONFLICT, "invalid-transition",
                "The order is not in a state that allows this", detail, null);
    }

    /** A thing (a sweep) whose state does not allow the request (extending a cancelled sweep). */
    public static ApiProblem invalidState(String what, String detail) {
        return new ApiProblem(HttpStatus.CONFLICT, "invalid-state", "The " + what + " is not in a state that allows this",
                detail, null);
    }

    public static ApiProblem tooLarge(int limit) {
        return new ApiProblem(HttpStatus.CONTENT_TOO_LARGE, "payload-too-large", "The request body is too large",
                "Bodies are limited to " + limit + " bytes.", "body");
    }

    /**
     * An upload over a limit the Boss sets (per upload, or the store's quota): {@code detail} says the
     * limit and the setting that raises it.
     */
    public static ApiProblem uploadTooLarge(String detail, String field) {
        return new ApiProblem(HttpStatus.CONTENT_TOO_LARGE, "upload-too-large", "The upload is too large", detail,
                field);
    }

    /** The store under the Boss has no room left (its disk is full): not the client's fault, and not a bug. */
    public static ApiProblem storeFull(String detail, String field) {
        return new ApiProblem(HttpStatus.INSUFFICIENT_STORAGE, "store-full", "The Boss's disk is full", detail, field);
    }

    /** A request that met a passing state of the Boss (a blob deleted while it was checked): sending it again works. */
    public static ApiProblem sendAgain(String detail, String field) {
        return new ApiProblem(HttpStatus.SERVICE_UNAVAILABLE, "send-again", "Send the request again", detail, field);
    }

    /** Something another thing still needs (a dataset version a queued job's data is). */
    public static ApiProblem inUse(String detail, String field) {
        return new ApiProblem(HttpStatus.CONFLICT, "in-use", "Still in use", detail, field);
    }

    /** A {@code Range} that starts at or beyond the end of what was asked for. */
    public static ApiProblem rangeNotSatisfiable(long size) {
        return new ApiProblem(HttpStatus.REQUESTED_RANGE_NOT_SATISFIABLE, "range-not-satisfiable",
                "The range starts beyond the end", "The content is " + size + " bytes long.", "Range");
    }

    /** A request body that stopped before its end (the client went away, or sent less than it said). */
    public static ApiProblem uploadInterrupted(String field) {
        return new ApiProblem(HttpStatus.BAD_REQUEST, "upload-interrupted", "The upload did not arrive whole",
                "The request body ended early; nothing was stored.", field);
    }

    public static ApiProblem unauthorized() {
        return new ApiProblem(HttpStatus.UNAUTHORIZED, "unauthorized", "Authentication required",
                "This route needs a valid bearer token.", null);
    }

    public static ApiProblem forbidden() {
        return new ApiProblem(HttpStatus.FORBIDDEN, "forbidden", "Not allowed",
                "This token may not use this route.", null);
    }

    public static ApiProblem forbiddenNode(String node) {
        return new ApiProblem(HttpStatus.FORBIDDEN, "forbidden-node", "Not allowed for this node",
                node == null ? "This token is bound to node names and the order is held by no node."
                        : "This token may not act as node '" + node + "'.", "node");
    }

    public HttpStatus status() {
        return status;
    }

    /** A report or beat from an attempt that no longer holds its order ({@link #staleAttempt}). */
    public boolean isStaleAttempt() {
        return "stale-attempt".equals(type);
    }

    public ProblemDetail toProblemDetail() {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(status, getMessage());
        problem.setType(URI.create(TYPE_BASE + type));
        problem.setTitle(title);
        if (field != null) {
            problem.setProperty("field", field);
        }
        return problem;
    }
}
