package com.maddatum.boss.blob;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * A request body read for storage. A read that fails here failed on the client's side (it went away, or
 * sent less than it said): the failure is {@link Interrupted}, which the routes answer as the client's
 * fault, unlike a failure to write the store.
 */
public final class ClientBody extends FilterInputStream {

    /** The body did not arrive whole. */
    public static final class Interrupted extends IOException {
        Interrupted(IOException cause) {
            super("the request body ended early: " + cause.getMessage(), cause);
        }
    }

    public ClientBody(InputStream in) {
        super(in);
    }

    @Override
    public int read() throws IOException {
        try {
            return super.read();
        } catch (IOException e) {
            throw new Interrupted(e);
        }
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        try {
            return super.read(b, off, len);
        } catch (IOException e) {
            throw new Interrupted(e);
        }
    }
}
