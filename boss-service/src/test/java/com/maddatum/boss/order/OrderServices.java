package com.maddatum.boss.order;

import com.maddatum.boss.support.TestProperties;
import com.maddatum.testsupport.MutableClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/** The order verbs wired by hand over a store, for tests of the verbs alone (no Spring context). */
record OrderServices(OrderService orders, ReadyIndex ready) {

    static OrderServices over(OrderStore store, Fleet fleet) {
        ReadyIndex ready = new ReadyIndex();
        OrderCatalog catalog = new OrderCatalog();
        LeaseTracker leases = new LeaseTracker();
        OrderMirror mirror = new OrderMirror(ready, leases, catalog, new ProjectBoards(),
                new ScriptDurations(TestProperties.defaults()), new OrderWatch(store));
        OrderService orders = new OrderService(store, mirror, ready, leases, MutableClock.stopped(),
                TestProperties.defaults(), new OrderMetrics(new SimpleMeterRegistry(), catalog, ready), fleet);
        return new OrderServices(orders, ready);
    }
}
