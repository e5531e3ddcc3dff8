package com.maddatum.boss.store;

import com.mongodb.MongoException;
import com.mongodb.MongoNodeIsRecoveringException;
import com.mongodb.MongoNotPrimaryException;
import com.mongodb.MongoServerException;
import com.mongodb.MongoSocketException;
import com.mongodb.MongoTimeoutException;
import java.util.Set;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.RecoverableDataAccessException;
import org.springframework.dao.TransientDataAccessException;

/**
 * Tells a failure of the store, or of the way to it, from a failure of this Boss with one document.
 * The first (a lost connection, an election, a timeout) says nothing about the order being written: it
 * stays claimable and the caller hears 5xx. The second (a document this version cannot read, a write
 * the server refuses for this document alone, a duplicate key) would fail the same way on every retry,
 * so the claim path sets that order aside rather than answer 500 to every {@code /bored}.
 */
public final class StoreFailures {

    /**
     * Server error codes that mean "not now, try again": the ones the drivers' retryable-writes
     * specification lists (host unreachable or not found, network timeout, shutdown in progress, primary
     * stepped down, exceeded time limit, socket exception, not writable primary, interrupted at shutdown
     * or by a replica-set change, not primary), plus a write concern that timed out.
     */
    private static final Set<Integer> RETRYABLE_CODES =
            Set.of(6, 7, 64, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436);

    private StoreFailures() {
    }

    public static boolean isTransient(Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof TransientDataAccessException || cause instanceof DataAccessResourceFailureException
                    || cause instanceof RecoverableDataAccessException || cause instanceof MongoSocketException
                    || cause instanceof MongoTimeoutException || cause instanceof MongoNotPrimaryException
                    || cause instanceof MongoNodeIsRecoveringException) {
                return true;
            }
            if (cause instanceof MongoException mongo && (mongo.hasErrorLabel(MongoException.TRANSIENT_TRANSACTION_ERROR_LABEL)
                    || mongo.hasErrorLabel("RetryableWriteError")
                    || mongo instanceof MongoServerException && RETRYABLE_CODES.contains(mongo.getCode()))) {
                return true;
            }
        }
        return false;
    }
}
