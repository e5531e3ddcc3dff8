package com.maddatum.worker.client;

/** The Boss could not be reached, or answered in a way that means "try again later" (5xx). */
public class BossUnavailableException extends Exception {

    public BossUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
