package com.maddatum.boss.store;

import com.mongodb.MongoBulkWriteException;
import com.mongodb.MongoException;
import com.mongodb.MongoServerException;
import com.mongodb.MongoWriteException;
import java.util.Set;
import org.springframework.dao.DataAccessException;
import org.springframework.dao.DataIntegrityViolationException;

/**
 * Tells a failure of this Boss with one document from a failure of the store or of the way to it.
 *
 * <p>Only positive evidence blames a document: this Boss failing to read or build an order from it (no
 * store exception at all), or the server refusing a write for reasons of that document alone (it fails
 * validation, is too large, has a field of the wrong type, a key that must be unique). Such a failure
 * would recur on every retry, so the claim path sets that order aside rather than answer 500 to every
 * {@code /bored}. Everything else the store or its driver raises (a lost connection, an election, a
 * timeout, revoked credentials, an interrupted call, an internal error of the embedded server) says
 * nothing about the order: it stays claimable, and the caller hears 5xx.
 */
public final class StoreFailures {

    /**
     * Server error codes about the document written: BadValue, TypeMismatch, DollarPrefixedFieldName,
     * DocumentValidationFailure, BSONObjectTooLarge, and the "document too large" codes of older servers.
     */
    private static final Set<Integer> DOCUMENT_CODES = Set.of(2, 14, 52, 121, 10334, 17419, 17420);

    private StoreFailures() {
    }

    /** True when the failure would happen again for this document and for no other. */
    public static boolean blamesDocument(Throwable failure) {
        boolean fromStore = false;
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof DataIntegrityViolationException) {
                return true;
            }
            if (cause instanceof MongoWriteException write && DOCUMENT_CODES.contains(write.getError().getCode())) {
                return true;
            }
            if (cause instanceof MongoBulkWriteException bulk && !bulk.getWriteErrors().isEmpty()
                    && bulk.getWriteErrors().stream().allMatch(e -> DOCUMENT_CODES.contains(e.getCode()))) {
                return true;
            }
            if (cause instanceof MongoServerException server && DOCUMENT_CODES.contains(server.getCode())) {
                return true;
            }
            fromStore |= cause instanceof DataAccessException || cause instanceof MongoException;
        }
        return !fromStore;
    }

    /** The opposite: the store or the way to it failed, and nothing is known about the document. */
    public static boolean isStoreFailure(Throwable failure) {
        return !blamesDocument(failure);
    }
}
