package com.maddatum.boss.job;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.boss.blob.BlobStore;
import com.maddatum.boss.dataset.DataInUse;
import com.maddatum.boss.order.OrderQueries;
import com.maddatum.boss.order.OrderService;
import com.maddatum.boss.store.StoreDurability;
import com.maddatum.boss.support.BossApiTestBase;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.bson.Document;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/** What jobs still to run keep: every one of them, also while the queue moves under the walk. */
class PendingJobsTest extends BossApiTestBase {

    @Autowired
    JobService jobService;

    @Autowired
    OrderQueries orders;

    @Autowired
    OrderService orderService;

    @Autowired
    StoreDurability durability;

    @Autowired
    BlobStore blobs;

    @Test
    void anOrderLeavingItsStatusMidWalkDoesNotHideALaterOne() throws Exception {
        String sha = blobs.put(new ByteArrayInputStream(("late " + System.nanoTime()).getBytes(StandardCharsets.UTF_8)),
                null, Long.MAX_VALUE, null).sha256();
        // The oldest waiting job names the data; newest first, it comes after a full batch of others.
        String target = jobService.create(new Document("scriptName", "noop.py").append("dataSha256", sha)).jobId();
        List<String> others = new ArrayList<>();
        int batch = 5;
        for (int i = 0; i < batch; i++) {
            others.add(jobService.create(new Document("scriptName", "noop.py")).jobId());
        }
        // After the first batch is read, one of its orders is cancelled: the rest of the queue moves up.
        PendingJobs pending = new PendingJobs(orders, new JobStore(mongo, durability) {
            private boolean first = true;

            @Override
            Map<String, Document> fieldsOf(Collection<String> ids, Collection<String> fields) {
                Map<String, Document> read = super.fieldsOf(ids, fields);
                if (first) {
                    first = false;
                    orderService.cancel(others.get(others.size() - 1), "test");
                }
                return read;
            }
        }, List.of(), batch);
        try {
            assertThat(pending.liveJobUsing("late.csv", sha)).map(DataInUse.LiveUse::user).hasValue("job " + target);
            assertThat(pending.referenced()).contains(sha);
        } finally {
            others.subList(0, others.size() - 1).forEach(id -> orderService.cancel(id, "test"));
            orderService.cancel(target, "test");
        }
    }
}
