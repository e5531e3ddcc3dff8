package com.maddatum.boss.artifact;

import com.maddatum.boss.blob.BlobReferences;
import java.util.Set;
import org.springframework.stereotype.Component;

/** Artifacts refer to their blobs until they are pruned; a skipped one has no blob. */
@Component
class ArtifactBlobs implements BlobReferences {

    private final ArtifactStore store;

    ArtifactBlobs(ArtifactStore store) {
        this.store = store;
    }

    @Override
    public Set<String> referenced() {
        return store.keptHashes();
    }
}
