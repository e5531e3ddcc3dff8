package com.maddatum.boss.idempotency;

import com.maddatum.boss.web.ApiProblem;

/**
 * An {@code Idempotency-Key} as a client sent it: 1 to 255 visible ASCII characters, as Stripe and the
 * IETF draft's examples use (a UUID fits). The value is taken as sent, quotes included: it is compared,
 * never interpreted.
 */
record IdempotencyKey(String value) {

    static final int MAX_LENGTH = 255;

    static IdempotencyKey parse(String sent) {
        if (sent == null || sent.isEmpty() || sent.length() > MAX_LENGTH) {
            throw ApiProblem.invalidHeader(IdempotentCreates.KEY_HEADER, IdempotentCreates.KEY_HEADER
                    + " must be 1 to " + MAX_LENGTH + " characters long; this one has "
                    + (sent == null ? 0 : sent.length()) + ".");
        }
        for (int i = 0; i < sent.length(); i++) {
            char c = sent.charAt(i);
            if (c < 0x21 || c > 0x7e) {
                throw ApiProblem.invalidHeader(IdempotentCreates.KEY_HEADER, IdempotentCreates.KEY_HEADER
                        + " may hold only visible ASCII characters (no spaces); character " + (i + 1) + " is not one.");
            }
        }
        return new IdempotencyKey(sent);
    }
}
