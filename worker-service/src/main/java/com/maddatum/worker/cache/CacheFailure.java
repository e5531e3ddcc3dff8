package com.maddatum.worker.cache;

/** Why the cache could not give a blob, in words a person can act on, and whose fault that is ({@link Kind}). */
public final class CacheFailure extends Exception {

    /** What went wrong; it decides the Outcome of the job that asked. */
    public enum Kind {
        /** The Boss has no such blob (its 404), or refused to serve it: the job named something that is not there. */
        MISSING,
        /** The bytes do not hash to the name, or do not have the size the job says: never used. */
        CORRUPT,
        /** Larger than {@code worker.cache.max-bytes}: this Worker would never keep it. */
        TOO_LARGE,
        /** The disk has not the room, or refused the write. */
        NO_SPACE,
        /** The Boss was unreachable, failing (5xx), or stopped sending: it may work later. */
        UNAVAILABLE,
        /** The run that asked was stopped (cancelled, shut down) while it waited. */
        STOPPED
    }

    private final Kind kind;

    public CacheFailure(Kind kind, String message) {
        super(message, null, false, false);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
