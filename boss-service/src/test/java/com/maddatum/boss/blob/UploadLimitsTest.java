package com.maddatum.boss.blob;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.maddatum.boss.support.TestProperties;
import com.maddatum.boss.web.ApiProblem;
import com.maddatum.testsupport.MutableClock;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileSystemException;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.http.HttpStatus;

/** What the upload routes answer when a store refuses: the limits' 413s are tested over HTTP, a full disk here. */
class UploadLimitsTest {

    @TempDir
    Path dir;

    @Test
    void aFullDiskIsA507ThatSaysSo() {
        BlobStore disk = new DiskBlobStore(dir, MutableClock.stopped());
        UploadLimits limits = new UploadLimits(TestProperties.defaults(), new FullDisk(disk));
        assertThatThrownBy(() -> limits.store(new ByteArrayInputStream(new byte[10]), null, null, "body"))
                .isInstanceOfSatisfying(ApiProblem.class, problem -> {
                    assertThat(problem.status()).isEqualTo(HttpStatus.INSUFFICIENT_STORAGE);
                    assertThat(problem.toProblemDetail().getTitle()).contains("disk is full");
                    assertThat(problem.getMessage()).contains("nothing was stored").contains("boss.store.data-dir");
                });
    }

    @Test
    void onlyTheOperatingSystemsDiskFullErrorsAreAFullStore() {
        assertThat(BlobStore.StoreFull.translate(new FileSystemException("/data/blobs/tmp/put-1.part: No space left "
                + "on device"))).isInstanceOf(BlobStore.StoreFull.class);
        assertThat(BlobStore.StoreFull.translate(new IOException("Disk quota exceeded")))
                .isInstanceOf(BlobStore.StoreFull.class);
        IOException other = new IOException("Input/output error");
        assertThat(BlobStore.StoreFull.translate(other)).isSameAs(other);
    }

    @Test
    void theQuotaRefusalNamesArtifactsAndTheSetting() {
        UploadLimits limits = new UploadLimits(TestProperties.with(Map.of("boss.datasets.quota-bytes", "1KB")),
                new DiskBlobStore(dir, MutableClock.stopped()));
        assertThatThrownBy(() -> limits.store(new ByteArrayInputStream(new byte[2000]), null, null, "body"))
                .isInstanceOfSatisfying(ApiProblem.class, problem -> {
                    assertThat(problem.status()).isEqualTo(HttpStatus.CONTENT_TOO_LARGE);
                    assertThat(problem.getMessage()).contains("artifacts").contains("boss.datasets.quota-bytes")
                            .contains("BOSS_DATASETS_QUOTA_BYTES").contains("1.0 KiB (1024 bytes)");
                });
    }

    /** A store on a disk that has just filled up: every put fails as the operating system says. */
    private static final class FullDisk extends DelegatingBlobStore {
        FullDisk(BlobStore store) {
            super(store);
        }

        @Override
        public Blob put(InputStream in, String expectedSha256, Limits limits, Consumer<ChunkView> onChunk)
                throws IOException {
            throw new StoreFull(new FileSystemException("put-1.part: No space left on device"));
        }
    }
}
