package com.maddatum.boss.order;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.Test;

class ReadyIndexTest {

    private final ReadyIndex index = new ReadyIndex();
    private final Instant t0 = Instant.parse("2026-01-01T00:00:00Z");

    @Test
    void takesHighestPriorityFirstThenOldest() {
        Order oldLow = order(0, t0, List.of());
        Order newHigh = order(5, t0.plusSeconds(10), List.of());
        Order oldHigh = order(5, t0.plusSeconds(1), List.of());
        index.offer(oldLow);
        index.offer(newHigh);
        index.offer(oldHigh);
        assertThat(index.take(Set.of()).id()).isEqualTo(oldHigh.id());
        assertThat(index.take(Set.of()).id()).isEqualTo(newHigh.id());
        assertThat(index.take(Set.of()).id()).isEqualTo(oldLow.id());
        assertThat(index.take(Set.of())).isNull();
    }

    @Test
    void skipsOrdersWhoseRequiredLabelsTheNodeLacks() {
        Order gpu = order(9, t0, List.of("gpu"));
        Order any = order(0, t0.plusSeconds(1), List.of());
        index.offer(gpu);
        index.offer(any);
        assertThat(index.take(Set.of("cpu")).id()).isEqualTo(any.id());
        assertThat(index.take(Set.of("cpu"))).isNull();
        assertThat(index.take(Set.of("gpu", "cuda")).id()).isEqualTo(gpu.id());
    }

    @Test
    void reofferingAnOrderReplacesItsCandidateInsteadOfDuplicatingIt() {
        Order order = order(0, t0, List.of());
        index.offer(order);
        index.offer(order);
        assertThat(index.size()).isEqualTo(1);
        assertThat(index.take(Set.of())).isNotNull();
        assertThat(index.take(Set.of())).isNull();
    }

    @Test
    void anOldCandidateCannotRemoveOrShadowTheOrdersNewerAttempt() {
        Order first = OrderFixture.order().created(t0).attempt(0).revision(0).build();
        index.offer(first);
        ReadyIndex.Candidate taken = index.take(Set.of());
        // Meanwhile the order was claimed elsewhere, lost its lease and came back at attempt 1.
        Order again = OrderFixture.order().id(first.id()).created(t0).attempt(1).revision(3).build();
        index.offer(again);
        index.restore(taken);
        assertThat(index.size()).isEqualTo(1);
        ReadyIndex.Candidate next = index.take(Set.of());
        assertThat(next.attempt()).isEqualTo(1);
        assertThat(next.revision()).isEqualTo(3);
        assertThat(index.take(Set.of())).isNull();
    }

    @Test
    void aSkippedOrderStaysOutUntilItChanges() {
        Order broken = OrderFixture.order().created(t0).revision(2).build();
        index.offer(broken);
        index.skip(index.take(Set.of()));
        index.offer(broken);
        assertThat(index.contains(broken.id())).isFalse();
        index.offer(OrderFixture.order().id(broken.id()).created(t0).revision(3).build());
        assertThat(index.contains(broken.id())).isTrue();
    }

    @Test
    void labelCountsFollowOffersAndRemovals() {
        Order gpu = order(0, t0, List.of("gpu"));
        index.offer(gpu);
        index.offer(order(0, t0, List.of()));
        assertThat(index.labelCount("gpu")).isEqualTo(1);
        assertThat(index.labelCount(ReadyIndex.NO_LABEL)).isEqualTo(1);
        index.offer(order(0, t0, List.of("none"))); // a real label that happens to be called "none"
        assertThat(index.labelCount(ReadyIndex.NO_LABEL)).isEqualTo(1);
        assertThat(index.labelCount("none")).isEqualTo(1);
        index.remove(gpu.id());
        assertThat(index.labelCount("gpu")).isZero();
    }

    @Test
    void notifiesListenersOnOffer() {
        int[] calls = {0};
        index.onOffer(() -> calls[0]++);
        index.offer(order(0, t0, List.of()));
        assertThat(calls[0]).isEqualTo(1);
    }

    @Test
    void aheadCountsOnlyEarlierOrdersTheNodeCouldTake() {
        Order gpuOld = order(0, t0, List.of("gpu"));
        Order anyUrgent = order(9, t0.plusSeconds(5), List.of());
        Order gpuCudaUrgent = order(9, t0.plusSeconds(1), List.of("gpu", "cuda"));
        Order mine = order(0, t0.plusSeconds(2), List.of("gpu"));
        Order later = order(0, t0.plusSeconds(3), List.of());
        List.of(gpuOld, anyUrgent, gpuCudaUrgent, mine, later).forEach(index::offer);
        assertThat(index.ahead(mine.id(), Set.of("gpu"))).isEqualTo(2); // gpuOld, anyUrgent
        assertThat(index.ahead(mine.id(), Set.of("gpu", "cuda", "x"))).isEqualTo(3);
        assertThat(index.ahead(later.id(), Set.of())).isEqualTo(1);
        index.remove(anyUrgent.id());
        index.skip(index.candidate(gpuOld.id()));
        assertThat(index.ahead(mine.id(), Set.of("gpu"))).isZero();
        ReadyIndex.Candidate taken = index.take(Set.of("gpu"));
        assertThat(taken.id()).isEqualTo(mine.id());
        assertThat(index.ahead(mine.id(), Set.of("gpu"))).isEqualTo(-1); // taken: not waiting here any more
        index.restore(taken);
        assertThat(index.ahead(mine.id(), Set.of("gpu", "cuda"))).isEqualTo(1);
    }

    @Test
    void aheadAgreesWithAWalkOfTheQueueUnderRandomChanges() {
        java.util.Random random = new java.util.Random(7);
        List<List<String>> labelSets = List.of(List.of(), List.of("gpu"), List.of("cpu"), List.of("gpu", "big"));
        List<Set<String>> nodes = List.of(Set.of(), Set.of("gpu"), Set.of("gpu", "big", "cpu"), Set.of("cpu"));
        List<Order> offered = new java.util.ArrayList<>();
        for (int step = 0; step < 3_000; step++) {
            int op = random.nextInt(10);
            if (op < 5 || offered.isEmpty()) {
                Order order = order(random.nextInt(3), t0.plusSeconds(random.nextInt(50)),
                        labelSets.get(random.nextInt(labelSets.size())));
                index.offer(order);
                offered.add(order);
            } else if (op < 7) {
                index.remove(offered.get(random.nextInt(offered.size())).id());
            } else if (op < 8) {
                index.take(nodes.get(random.nextInt(nodes.size())));
            } else {
                Order probe = offered.get(random.nextInt(offered.size()));
                Set<String> node = nodes.get(random.nextInt(nodes.size()));
                assertThat(index.ahead(probe.id(), node)).as("step %d", step).isEqualTo(walk(probe, node));
            }
        }
    }

    @Test
    void takePassesOverOrdersTheClaimerDoesNotFitAndLeavesThemInPlace() {
        Order big = gpuOrder(5, t0, List.of(), 40_960);
        Order small = gpuOrder(0, t0.plusSeconds(1), List.of(), 16_384);
        index.offer(big);
        index.offer(small);
        ReadyIndex.Candidate taken = index.take(Set.of(), c -> c.entry().fitsGpuMemory(24_576L));
        assertThat(taken.id()).isEqualTo(small.id());
        assertThat(index.take(Set.of(), c -> c.entry().fitsGpuMemory(null))).isNull();
        assertThat(index.contains(big.id())).isTrue();
        assertThat(index.take(Set.of(), c -> c.entry().fitsGpuMemory(81_920L)).id()).isEqualTo(big.id());
    }

    @Test
    void demandCountsEveryLabelSetTheWorkerHasAndWhatItsGpuCanTake() {
        index.offer(order(0, t0, List.of()));
        index.offer(order(0, t0, List.of("gpu")));
        index.offer(gpuOrder(0, t0, List.of("gpu"), 24_576));
        index.offer(gpuOrder(0, t0, List.of("gpu"), 40_960));
        index.offer(order(0, t0, List.of("gpu", "cuda")));
        index.offer(order(0, t0, List.of("cpu")));

        assertThat(demand(Set.of("gpu"), 40_960L)).containsExactlyInAnyOrder(
                new LabelSetDemand(Set.of(), 1, 1), new LabelSetDemand(Set.of("gpu"), 3, 3));
        assertThat(demand(Set.of("gpu"), 24_576L)).contains(new LabelSetDemand(Set.of("gpu"), 3, 2));
        assertThat(demand(Set.of("gpu"), 24_575L)).contains(new LabelSetDemand(Set.of("gpu"), 3, 1));
        assertThat(demand(Set.of("gpu"), 0L)).contains(new LabelSetDemand(Set.of("gpu"), 3, 1));
        // No GPU memory said: no order that needs some, as in a claim.
        assertThat(demand(Set.of("gpu"), null)).contains(new LabelSetDemand(Set.of("gpu"), 3, 1));
        assertThat(demand(Set.of("gpu", "cuda"), Long.MAX_VALUE)).hasSize(3)
                .contains(new LabelSetDemand(Set.of("gpu", "cuda"), 1, 1), new LabelSetDemand(Set.of("gpu"), 3, 3));
        assertThat(demand(Set.of(), null)).containsExactly(new LabelSetDemand(Set.of(), 1, 1));
    }

    @Test
    void demandAgreesWithAWalkOfTheQueueUnderRandomChanges() {
        java.util.Random random = new java.util.Random(11);
        List<List<String>> labelSets = List.of(List.of(), List.of("gpu"), List.of("gpu", "big"));
        List<Set<String>> nodes = List.of(Set.of(), Set.of("gpu"), Set.of("gpu", "big"));
        Long[] memories = {null, 0L, 8_000L, 16_000L, 16_001L, 40_000L};
        List<Order> offered = new java.util.ArrayList<>();
        for (int step = 0; step < 3_000; step++) {
            int op = random.nextInt(10);
            if (op < 5 || offered.isEmpty()) {
                List<String> labels = labelSets.get(random.nextInt(labelSets.size()));
                Instant created = t0.plusSeconds(random.nextInt(50));
                Order order = random.nextBoolean() ? order(random.nextInt(3), created, labels)
                        : gpuOrder(random.nextInt(3), created, labels, 8_000 * (1 + random.nextInt(5)));
                index.offer(order);
                offered.add(order);
            } else if (op < 7) {
                index.remove(offered.get(random.nextInt(offered.size())).id());
            } else if (op < 8) {
                Long memory = memories[random.nextInt(memories.length)];
                index.take(nodes.get(random.nextInt(nodes.size())), c -> c.entry().fitsGpuMemory(memory));
            } else {
                Set<String> node = nodes.get(random.nextInt(nodes.size()));
                Long memory = memories[random.nextInt(memories.length)];
                long counted = index.demand(node, memory).stream().mapToLong(LabelSetDemand::claimable).sum();
                long walked = index.snapshot().values().stream().map(ReadyIndex.Candidate::entry)
                        .filter(e -> e.runnableOn(node) && e.fitsGpuMemory(memory)).count();
                assertThat(counted).as("step %d node %s memory %s", step, node, memory).isEqualTo(walked);
            }
        }
    }

    private List<LabelSetDemand> demand(Set<String> node, Long gpuMemoryMiB) {
        return index.demand(node, gpuMemoryMiB);
    }

    private Order gpuOrder(int priority, Instant created, List<String> labels, long mib) {
        return OrderFixture.order().priority(priority).created(created).labels(labels.toArray(String[]::new))
                .minGpuMemoryMiB(mib).build();
    }

    /** What a claimer would take first, counted the slow way. */
    private long walk(Order probe, Set<String> node) {
        var waiting = index.snapshot();
        if (!waiting.containsKey(probe.id())) {
            return -1;
        }
        ReadyIndex.Entry mine = waiting.get(probe.id()).entry();
        return waiting.values().stream().map(ReadyIndex.Candidate::entry)
                .filter(e -> e.runnableOn(node) && ReadyIndex.CLAIM_ORDER.compare(e, mine) < 0).count();
    }

    private Order order(int priority, Instant created, List<String> labels) {
        return OrderFixture.order().priority(priority).created(created).labels(labels.toArray(String[]::new)).build();
    }
}
