package com.maddatum.worker.runner;

/** Why the Worker stopped a script before it ended by itself. */
public enum StopReason {
    /** The job's time limit passed. */
    TIMEOUT,
    /** The Boss said the job was cancelled. */
    CANCELLED,
    /** The Boss no longer recognises our attempt: someone else owns the order now. */
    LEASE_LOST,
    /** The Worker is shutting down and the grace period ran out. */
    SHUTDOWN,
    /**
     * The Boss's early-stopping rule judged the run a losing trial of its sweep: it ends as done, with its
     * last progress point, not as a failure.
     */
    PRUNED
}
