package com.maddatum.boss.fleet;

import com.maddatum.boss.order.AttemptEnding;
import com.maddatum.boss.order.Fleet;
import com.maddatum.boss.worker.WorkerRegistry;
import com.maddatum.boss.worker.WorkerRegistry.LiveNode;
import java.util.List;
import java.util.Set;
import org.springframework.stereotype.Service;

/** The fleet as the order verbs see it: {@link Standings} for eligibility, {@link Endings} for quarantine. */
@Service
class FleetService implements Fleet {

    private final Standings standings;
    private final Endings endings;
    private final WorkerRegistry registry;

    FleetService(Standings standings, Endings endings, WorkerRegistry registry) {
        this.standings = standings;
        this.endings = endings;
        this.registry = registry;
    }

    @Override
    public boolean mayClaim(String node) {
        return standings.mayClaim(node);
    }

    @Override
    public boolean stillMayClaim(String node) {
        return standings.stillMayClaim(node);
    }

    @Override
    public List<LiveNode> takers(Set<String> labels) {
        return registry.live().stream().filter(n -> n.labels().containsAll(labels) && standings.mayClaim(n.name()))
                .toList();
    }

    @Override
    public void ended(AttemptEnding ending) {
        if (!endings.enabled()) {
            return;
        }
        String orderId = ending.orderId().toHexString();
        RecordedEnding.Kind kind = switch (ending.kind()) {
            case DONE -> RecordedEnding.Kind.OK;
            case INFRASTRUCTURE -> RecordedEnding.Kind.INFRASTRUCTURE;
            case LEASE_EXPIRED -> RecordedEnding.Kind.LEASE_EXPIRED;
            case SCRIPT -> RecordedEnding.Kind.SCRIPT_PENDING;
            case JOBS_FAULT -> null; // nobody is blamed: nothing to add
        };
        if (kind != null) {
            endings.add(ending.node(), new RecordedEnding(kind, orderId, ending.jobId(), ending.attempt(),
                    ending.status(), ending.errorType(), ending.message(), ending.at()));
        }
        ending.confirms().forEach(node -> endings.settle(node, orderId, RecordedEnding.Kind.SCRIPT_CONFIRMED));
        ending.excuses().forEach(node -> endings.settle(node, orderId, RecordedEnding.Kind.JOBS_FAULT));
    }
}
