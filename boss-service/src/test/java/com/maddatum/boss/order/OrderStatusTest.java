package com.maddatum.boss.order;

import static com.maddatum.boss.order.OrderStatus.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class OrderStatusTest {

    /** The whole table, written out independently of the switch it checks. */
    private static final Map<OrderStatus, Set<OrderStatus>> ALLOWED = Map.of(
            UNASSIGNED, EnumSet.of(ASSIGNED, CANCELLED),
            ASSIGNED, EnumSet.of(RUNNING, UNASSIGNED, DONE, FAILED, CANCELLED),
            RUNNING, EnumSet.of(UNASSIGNED, DONE, FAILED, CANCELLED),
            DONE, EnumSet.noneOf(OrderStatus.class),
            FAILED, EnumSet.noneOf(OrderStatus.class),
            CANCELLED, EnumSet.noneOf(OrderStatus.class));

    @ParameterizedTest
    @EnumSource(OrderStatus.class)
    void everyRowOfTheTransitionTableMatches(OrderStatus from) {
        for (OrderStatus to : OrderStatus.values()) {
            assertThat(from.canTransitionTo(to))
                    .as("%s -> %s", from, to)
                    .isEqualTo(ALLOWED.get(from).contains(to));
        }
    }

    @Test
    void terminalStatesAreExactlyTheOnesWithNoWayOut() {
        for (OrderStatus status : OrderStatus.values()) {
            assertThat(status.isTerminal()).as(status.wire()).isEqualTo(ALLOWED.get(status).isEmpty());
        }
    }

    @Test
    void sourcesOfCancelledAreTheLiveStates() {
        assertThat(OrderStatus.sourcesOf(CANCELLED)).containsExactlyInAnyOrder(UNASSIGNED, ASSIGNED, RUNNING);
    }

    @Test
    void wireNamesAreTheSeedsLowercaseWords() {
        assertThat(UNASSIGNED.wire()).isEqualTo("unassigned");
        assertThat(OrderStatus.fromWire("assigned")).isEqualTo(ASSIGNED);
        assertThatThrownBy(() -> OrderStatus.fromWire("ASSIGNED")).isInstanceOf(IllegalArgumentException.class);
    }
}
