package com.maddatum.boss.sweep;

import com.maddatum.boss.job.JobTemplates;
import java.util.List;
import org.bson.Document;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.query.Criteria;
import org.springframework.data.mongodb.core.query.Query;
import org.springframework.stereotype.Component;

/**
 * A running sweep's {@code base} is every later trial's job: its pinned data, its inputs and its model are kept
 * as a queued job's are (see {@link JobTemplates}). A done sweep's are not: it holds nothing until it is
 * extended, and a trial whose data went meanwhile is refused (and enough refusals in a row stop the sweep).
 */
@Component
class SweepBases implements JobTemplates {

    private final MongoTemplate mongo;

    SweepBases(MongoTemplate mongo) {
        this.mongo = mongo;
    }

    @Override
    public List<Template> templates() {
        // The byStatus index on real MongoDB; a scan of the sweeps (few) on the embedded store.
        Query query = Query.query(Criteria.where(Sweep.STATUS).is(SweepStatus.RUNNING.wire()));
        query.fields().include(Sweep.ID).include(Sweep.BASE);
        return mongo.find(query, Document.class, SweepStore.COLLECTION).stream()
                .filter(d -> d.get(Sweep.BASE) instanceof Document)
                .map(d -> new Template("sweep " + d.getObjectId(Sweep.ID).toHexString(), d.get(Sweep.BASE, Document.class)))
                .toList();
    }
}
