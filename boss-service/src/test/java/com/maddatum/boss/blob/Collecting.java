package com.maddatum.boss.blob;

import java.io.IOException;
import java.time.Duration;
import org.springframework.context.ApplicationContext;

/** Lets tests outside the blob package run the blob collector now instead of on its schedule. */
public final class Collecting {

    private Collecting() {}

    /** Runs one round with this grace; returns how many blobs it deleted. */
    public static int collectNow(ApplicationContext context, Duration grace) throws IOException {
        return context.getBean(BlobCollector.class).collect(grace).blobs();
    }
}
