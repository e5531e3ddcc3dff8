package com.maddatum.worker.client;

/**
 * The Boss answered a blob request with a 4xx that is its word on the blob (404: it has no such blob),
 * not a passing trouble: asking again would get the same answer, so the job that named it is at fault.
 */
public class BlobRefusedException extends Exception {

    private final int status;

    public BlobRefusedException(int status, String message) {
        super(message, null, false, false);
        this.status = status;
    }

    /** The Boss's HTTP status. */
    public int status() {
        return status;
    }
}
