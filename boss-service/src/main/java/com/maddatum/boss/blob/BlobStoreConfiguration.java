package com.maddatum.boss.blob;

import com.maddatum.boss.config.BossProperties;
import com.maddatum.boss.store.StoreDurability;
import java.nio.file.Path;
import java.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.mongodb.core.MongoTemplate;

/**
 * Which {@link BlobStore}: GridFS on a real MongoDB, the Boss's disk on the embedded store.
 *
 * <p>Why not GridFS on the embedded store too (measured, not assumed: mongo-java-server 1.47 with the H2
 * backend the Boss runs, driver 5.6, 1 MiB chunks, a blob stored among three others of 20 MiB): a 50 MiB
 * blob cannot be read back at all. The server answers a query with every matching document in one reply,
 * whatever the batch size, and GridFS reads a file with one query for all its chunks, so the reply (52 MB)
 * passes the driver's 48 MB message limit and the download fails. A 40 MiB blob downloads at 105-160 MiB/s
 * but the Boss's heap grows by 100-170 MiB while it does (the whole reply is held on both sides); reading
 * chunk by chunk with exact {@code {files_id, n}} lookups keeps memory flat but manages 30-36 MiB/s, each
 * lookup scanning the chunks (about 30 ms each with 100 chunks stored). A plain file is read at disk speed
 * with a 1 MiB buffer, and the MVStore file stays small enough to open quickly. Only one Boss uses an
 * embedded store, so nothing is lost by keeping blobs beside it: {@code <boss.store.data-dir>/blobs/}.
 */
@Configuration(proxyBeanMethods = false)
class BlobStoreConfiguration {

    private static final Logger log = LoggerFactory.getLogger(BlobStoreConfiguration.class);

    @Bean
    BlobStore blobStore(StoreDurability durability, BossProperties properties, MongoTemplate mongo, Clock clock) {
        if (durability.isEmbedded()) {
            Path dir = Path.of(properties.store().dataDir(), "blobs");
            log.info("blob store on disk dir={}", dir.toAbsolutePath());
            return new DiskBlobStore(dir, clock);
        }
        log.info("blob store in GridFS bucket={}", GridFsBlobStore.BUCKET);
        return new GridFsBlobStore(mongo.getDb(), clock);
    }
}
