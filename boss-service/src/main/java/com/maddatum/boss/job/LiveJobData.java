package com.maddatum.boss.job;

import com.maddatum.boss.blob.BlobReferences;
import com.maddatum.boss.dataset.DataInUse;
import com.maddatum.boss.order.Order;
import com.maddatum.boss.order.OrderQueries;
import com.maddatum.boss.order.OrderSort;
import com.maddatum.boss.order.OrderStatus;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import org.springframework.stereotype.Component;

/**
 * The data of jobs that are waiting or running: a dataset version they use cannot be deleted, and the blob
 * they will fetch is kept however the dataset changed meanwhile. Walks the live orders from memory a page
 * at a time and reads only their jobs' {@code dataSha256}: the cost is the queue's length, never the
 * history's.
 */
@Component
class LiveJobData implements DataInUse, BlobReferences {

    static final int PAGE = 500;
    private static final List<OrderStatus> LIVE = List.of(OrderStatus.UNASSIGNED, OrderStatus.ASSIGNED,
            OrderStatus.RUNNING);

    private final OrderQueries orders;
    private final JobStore jobs;

    LiveJobData(OrderQueries orders, JobStore jobs) {
        this.orders = orders;
        this.jobs = jobs;
    }

    @Override
    public Optional<String> liveJobUsing(String sha256) {
        String[] found = new String[1];
        walk(data -> {
            data.forEach((jobId, sha) -> {
                if (found[0] == null && sha.equals(sha256)) {
                    found[0] = jobId;
                }
            });
            return found[0] == null;
        });
        return Optional.ofNullable(found[0]);
    }

    @Override
    public Set<String> referenced() {
        Set<String> hashes = new HashSet<>();
        walk(data -> {
            hashes.addAll(data.values());
            return true;
        });
        return hashes;
    }

    /** Hands each page's job id -> dataSha256 to {@code page} while it answers true. */
    private void walk(Predicate<Map<String, String>> page) {
        for (OrderStatus status : LIVE) {
            for (int number = 0; ; number++) {
                List<Order> live = orders.page(null, null, status, OrderSort.NEWEST, number, PAGE);
                if (!live.isEmpty() && !page.test(jobs.dataOf(live.stream().map(Order::jobId).toList()))) {
                    return;
                }
                if (live.size() < PAGE) {
                    break;
                }
            }
        }
    }
}
