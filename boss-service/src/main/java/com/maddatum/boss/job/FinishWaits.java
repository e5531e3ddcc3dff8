package com.maddatum.boss.job;

import java.time.Duration;
import org.bson.types.ObjectId;
import org.springframework.http.ResponseEntity;
import org.springframework.web.context.request.async.DeferredResult;

/**
 * Holds the answer to {@code POST /job/create?waitSeconds=N} until the new job's order is done, failed
 * or cancelled. Provided by the read model, which sits above this package and knows how people see a job.
 */
public interface FinishWaits {

    /** The wait asked for, capped at {@code boss.queue.max-wait}; a 400 when negative. Checked before anything is stored. */
    Duration capped(int waitSeconds);

    /**
     * 201 with the seed's answer fields ({@code _id}, {@code jobId}, {@code orderId}, {@code status}) and the
     * job as {@code GET /jobs/{id}} shows it, once the order has finished or {@code wait} has passed,
     * whichever comes first; {@code status} is the order's status at that moment. {@code headers} go with the
     * answer (a replayed creation says so).
     */
    DeferredResult<ResponseEntity<Object>> untilFinished(String jobId, ObjectId orderId, Duration wait,
            org.springframework.http.HttpHeaders headers);
}
