/**
 * {@code Idempotency-Key} for routes that create something ({@code POST /job/create}; later
 * {@code POST /sweeps}): a request sent again with the same key and the same body creates nothing and
 * gets the first answer again. {@link com.maddatum.boss.idempotency.IdempotentCreates} is the one entry
 * point; a route hands it the key, the body and a creation that takes the id to create under.
 *
 * <p>Uniqueness is the store's: each key is one document whose {@code _id} is the caller's scope and
 * the key, inserted before anything is created. That document already names the id the new resource
 * gets, so a retry after a crash or a failed write finishes the same creation instead of starting a
 * second one.
 */
package com.maddatum.boss.idempotency;
