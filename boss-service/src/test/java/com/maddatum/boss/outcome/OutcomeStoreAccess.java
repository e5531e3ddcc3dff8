package com.maddatum.boss.outcome;

import com.maddatum.boss.store.StoreDurability;
import org.springframework.data.mongodb.core.MongoTemplate;

/** Lets store tests in other packages create the outcome store (and so its indexes) as a Boss would. */
public final class OutcomeStoreAccess {

    public OutcomeStoreAccess(MongoTemplate mongo, StoreDurability durability) {
        new OutcomeStore(mongo, durability);
    }
}
