package com.maddatum.boss.dataset;

import com.maddatum.boss.blob.BlobReferences;
import java.util.Set;
import org.springframework.stereotype.Component;

/** Every version of every dataset keeps its blob; a deleted version's blob goes once nothing else names it. */
@Component
class DatasetReferences implements BlobReferences {

    private final DatasetStore store;

    DatasetReferences(DatasetStore store) {
        this.store = store;
    }

    @Override
    public Set<String> referenced() {
        return store.referenced();
    }
}
