package com.maddatum.boss.blob;

import com.maddatum.boss.config.BossProperties;
import com.maddatum.boss.web.ApiProblem;
import java.io.IOException;
import java.io.InputStream;
import java.util.Locale;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * The two limits on what is uploaded to the Boss, for every route that stores a blob: at most
 * {@code boss.datasets.max-upload-bytes} per upload, checked as the bytes arrive (and before, when the upload
 * says its size), and at most {@code boss.datasets.quota-bytes} stored in all, checked once the hash is known,
 * so bytes already stored (the same file again, or a blob under a new name) never count twice. A refusal says
 * which limit, how far it is, and the setting that raises it, so that nobody has to guess (the complaint
 * people have of other systems' size walls); a full disk says so too, rather than a 500.
 */
@Component
public class UploadLimits {

    private static final Logger log = LoggerFactory.getLogger(UploadLimits.class);

    static final String MAX_UPLOAD = "boss.datasets.max-upload-bytes";
    static final String QUOTA = "boss.datasets.quota-bytes";

    private final long maxUpload;
    private final long quota;
    private final BlobStore store;

    UploadLimits(BossProperties properties, BlobStore store) {
        this.maxUpload = properties.datasets().maxUploadBytes().toBytes();
        this.quota = properties.datasets().quotaBytes().toBytes();
        this.store = store;
    }

    long maxUpload() {
        return maxUpload;
    }

    /**
     * Refuses, before a byte is read, an upload that says it is larger than one upload may be ({@code declared}
     * -1: unsaid). The quota waits for the end: only then is it known whether the bytes are new.
     */
    public void checkDeclared(long declared, String field) {
        if (declared > maxUpload) {
            throw tooLarge(field);
        }
    }

    /**
     * Stores {@code in} within both limits ({@link BlobStore#put}); a refusal is the problem to answer with.
     * {@link BlobStore.HashMismatch} and a client's {@link ClientBody.Interrupted} are the caller's to answer.
     */
    public BlobStore.Blob store(InputStream in, String expectedSha256, Consumer<BlobStore.ChunkView> onChunk,
            String field) throws IOException {
        try {
            return store.put(in, expectedSha256, new BlobStore.Limits(maxUpload, quota), onChunk);
        } catch (BlobStore.TooLarge e) {
            throw tooLarge(field);
        } catch (BlobStore.OverQuota e) {
            throw overQuota(e, field);
        } catch (BlobStore.StoreFull e) {
            log.error("blob not stored: the Boss's disk is full reason={}", e.getMessage());
            throw ApiProblem.storeFull("The Boss's disk is full: there is no room to store this upload, and nothing "
                    + "was stored. Free space on the disk that holds boss.store.data-dir (or delete dataset "
                    + "versions no longer needed), then send it again.", field);
        }
    }

    ApiProblem tooLarge(String field) {
        return ApiProblem.uploadTooLarge("An upload may be at most " + size(maxUpload) + " (" + MAX_UPLOAD
                + "). Raise it with " + MAX_UPLOAD + " (environment variable " + env(MAX_UPLOAD) + "), e.g. "
                + env(MAX_UPLOAD) + "=8GB.", field);
    }

    private static ApiProblem overQuota(BlobStore.OverQuota e, String field) {
        return ApiProblem.uploadTooLarge("The Boss stores at most " + size(e.quota()) + " of blobs, datasets and the "
                + "artifacts jobs upload together (" + QUOTA + "); " + size(e.stored()) + " are stored, and this "
                + "upload's " + size(e.size()) + " of new bytes would pass it; nothing was stored. Delete dataset "
                + "versions no longer needed, or keep fewer artifacts (boss.artifacts.keep): their bytes go once "
                + "nothing refers to them. Or raise " + QUOTA + " (environment variable " + env(QUOTA) + ").",
                field);
    }

    static String env(String property) {
        return property.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    /** {@code 2.0 GiB (2147483648 bytes)}: a person reads the first, a script the second. */
    static String size(long bytes) {
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double value = bytes;
        String unit = "bytes";
        for (String next : units) {
            if (value < 1024) {
                break;
            }
            value /= 1024;
            unit = next;
        }
        return unit.equals("bytes") ? bytes + " bytes"
                : String.format(Locale.ROOT, "%.1f %s (%d bytes)", value, unit, bytes);
    }
}
