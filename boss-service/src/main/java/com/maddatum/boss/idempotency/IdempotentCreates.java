package com.maddatum.boss.idempotency;

import com.maddatum.boss.config.BossProperties;
import com.maddatum.boss.security.Caller;
import com.maddatum.boss.web.ApiProblem;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.function.Function;
import org.bson.types.ObjectId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.stereotype.Service;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Runs a creation once per caller, {@code Idempotency-Key} and request, and answers repeats with the
 * first answer. Keys are scoped per token (by its identity, never the token), or shared by everyone
 * when authentication is off.
 *
 * <ul>
 * <li>First request: inserts the key, pending and naming the id to create under, then creates, then
 *     stores the answer (2xx only).</li>
 * <li>Same key, same request: the stored answer with {@code Idempotent-Replayed: true}; while the
 *     first is still running, waits up to {@code boss.idempotency.pending-wait} for it, then 409 with
 *     {@code Retry-After}.</li>
 * <li>Same key, other request: 422.</li>
 * <li>The creation fails with a 4xx (the request is wrong): the key is deleted, since nothing was
 *     created and the same body fails the same way again, while a corrected body may reuse the key.
 *     With anything else (the store failed; it may have written part of the creation): the key is let
 *     go but kept with its id, so the retry finishes that creation rather than starting another.</li>
 * <li>A pending key held past {@code take-over-after} (its Boss died): the next repeat finishes the
 *     creation under the recorded id.</li>
 * </ul>
 */
@Service
public class IdempotentCreates {

    public static final String KEY_HEADER = "Idempotency-Key";
    public static final String REPLAYED_HEADER = "Idempotent-Replayed";

    private static final Logger log = LoggerFactory.getLogger(IdempotentCreates.class);
    /** How often a waiter looks again without a wake-up: the first request may run on another replica. */
    private static final Duration WAIT_SLICE = Duration.ofSeconds(1);
    private static final String ANONYMOUS_SCOPE = "anonymous";

    private final IdempotencyStore store;
    private final PendingWaits waits;
    private final Clock clock;
    private final BossProperties.Idempotency settings;
    private final JsonMapper json;

    IdempotentCreates(IdempotencyStore store, PendingWaits waits, Clock clock, BossProperties properties,
            JsonMapper json) {
        this.store = store;
        this.waits = waits;
        this.clock = clock;
        this.settings = properties.idempotency();
        this.json = json;
    }

    /**
     * @param operation names the route: the same key and body sent to two routes are two requests
     * @param key the {@code Idempotency-Key} header as sent; null runs {@code create} as if this did not exist
     * @param create creates the resource under the id given and answers 2xx; it must be safe to run again
     *     with the same id, even while an earlier run is still going, creating nothing twice and answering
     *     for the one resource (a retry after a crash or a failed write does exactly that)
     */
    public ResponseEntity<?> once(String operation, String key, JsonNode request,
            Function<ObjectId, ResponseEntity<?>> create) {
        if (key == null) {
            return create.apply(new ObjectId());
        }
        KeyRecord first = KeyRecord.pending(scope(), IdempotencyKey.parse(key).value(),
                RequestFingerprint.of(operation, request), clock.instant(), settings);
        return store.insert(first) ? run(first, create) : repeat(first, create);
    }

    private ResponseEntity<?> repeat(KeyRecord sent, Function<ObjectId, ResponseEntity<?>> create) {
        long deadline = System.nanoTime() + settings.pendingWait().toNanos();
        while (true) {
            try (PendingWaits.Ticket ticket = waits.ticket(sent.id())) {
                Instant now = clock.instant();
                KeyRecord found = store.find(sent.id()).orElse(null);
                if (found == null || found.expiredAt(now)) {
                    // Deleted after a 4xx, or past keep-for and not purged yet: the key is free again.
                    KeyRecord fresh = sent.restarted(now, settings);
                    if (found == null ? store.insert(fresh) : store.replace(found.rev(), fresh)) {
                        return run(fresh, create);
                    }
                } else if (!found.requestHash().equals(sent.requestHash())) {
                    throw ApiProblem.keyReused(KEY_HEADER, "This " + KEY_HEADER + " was first used, "
                            + found.createdAt() + ", for a request with another body or route. Send a new key "
                            + "for a new request.");
                } else if (found.isDone()) {
                    return replay(found.answer());
                } else if (!found.heldAt(now)) {
                    KeyRecord mine = found.takenOver(now, settings);
                    if (store.replace(found.rev(), mine)) {
                        log.info("idempotency key taken over resource={} heldUntil={}", mine.resourceId(),
                                found.heldUntil());
                        return run(mine, create);
                    }
                } else {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        return stillRunning(found, now);
                    }
                    waits.await(ticket, Duration.ofNanos(Math.min(left, WAIT_SLICE.toNanos())));
                }
                // Lost a write to another request with this key, or woken: look again.
            }
        }
    }

    private ResponseEntity<?> run(KeyRecord mine, Function<ObjectId, ResponseEntity<?>> create) {
        ResponseEntity<?> answer;
        try {
            answer = create.apply(mine.resourceId());
        } catch (ApiProblem problem) {
            letGo(mine, problem.status().is4xxClientError());
            throw problem;
        } catch (RuntimeException | Error failure) {
            letGo(mine, false);
            throw failure;
        }
        if (!answer.getStatusCode().is2xxSuccessful()) {
            letGo(mine, answer.getStatusCode().is4xxClientError());
            return answer;
        }
        try {
            store.replace(mine.rev(), mine.done(StoredAnswer.of(answer, json)));
        } catch (RuntimeException notStored) {
            // The resource exists; only its answer is not kept. A repeat takes the key over once it is no
            // longer held and finishes the creation under the same id, which creates nothing again.
            log.warn("idempotent answer not stored resource={} error={}", mine.resourceId(), notStored.toString());
        }
        waits.wake(mine.id());
        return answer;
    }

    /** After a failed creation: a 4xx forgets the key, anything else leaves it to the next retry at once. */
    private void letGo(KeyRecord mine, boolean clientError) {
        try {
            if (clientError) {
                store.delete(mine.rev());
            } else {
                store.replace(mine.rev(), mine.released());
            }
        } catch (RuntimeException unwritten) {
            // Still held: a retry takes it over after take-over-after.
            log.warn("idempotency key not let go resource={} error={}", mine.resourceId(), unwritten.toString());
        }
        waits.wake(mine.id());
    }

    private static ResponseEntity<String> replay(StoredAnswer answer) {
        ResponseEntity.BodyBuilder reply = ResponseEntity.status(answer.status()).header(REPLAYED_HEADER, "true")
                .contentType(MediaType.APPLICATION_JSON);
        if (answer.location() != null) {
            reply.header(HttpHeaders.LOCATION, answer.location());
        }
        return reply.body(answer.body());
    }

    private ResponseEntity<Object> stillRunning(KeyRecord found, Instant now) {
        long untilTakeOver = (Duration.between(now, found.heldUntil()).toMillis() + 999) / 1000;
        long retryAfter = Math.max(1, Math.min(untilTakeOver, Math.max(1, settings.pendingWait().toSeconds())));
        ApiProblem problem = ApiProblem.keyInUse(KEY_HEADER, "The first request with this " + KEY_HEADER
                + " is still being processed. Send it again, with the same key, for its answer.");
        return ResponseEntity.status(HttpStatus.CONFLICT).header(HttpHeaders.RETRY_AFTER, String.valueOf(retryAfter))
                .contentType(MediaType.APPLICATION_PROBLEM_JSON).body(problem.toProblemDetail());
    }

    private static String scope() {
        return Caller.current().map(Caller::identity).orElse(ANONYMOUS_SCOPE);
    }
}
