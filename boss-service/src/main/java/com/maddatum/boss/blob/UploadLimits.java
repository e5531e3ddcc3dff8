package com.maddatum.boss.blob;

import com.maddatum.boss.config.BossProperties;
import com.maddatum.boss.web.ApiProblem;
import java.util.Locale;
import org.springframework.stereotype.Component;

/**
 * The two limits on what is uploaded to the Boss, for every route that stores a blob: at most
 * {@code boss.datasets.max-upload-bytes} per upload, and at most {@code boss.datasets.quota-bytes} stored in
 * all. A refusal says which limit, how far it is, and the setting that raises it, so that nobody has to
 * guess (the complaint people have of other systems' size walls).
 */
@Component
public class UploadLimits {

    static final String MAX_UPLOAD = "boss.datasets.max-upload-bytes";
    static final String QUOTA = "boss.datasets.quota-bytes";

    /**
     * What one upload may bring: {@code maxBytes}, which is the per-upload limit or, when less is left, what
     * the quota leaves ({@code byQuota}); {@code stored}: the bytes stored when the budget was made.
     */
    public record Budget(long maxBytes, boolean byQuota, long quota, long stored) {}

    private final long maxUpload;
    private final long quota;
    private final BlobStore store;

    UploadLimits(BossProperties properties, BlobStore store) {
        this.maxUpload = properties.datasets().maxUploadBytes().toBytes();
        this.quota = properties.datasets().quotaBytes().toBytes();
        this.store = store;
    }

    /**
     * The budget of an upload now. {@code newBytes} false: the bytes are known to be stored already (a
     * Worker sending a blob the Boss has), so they take nothing from the quota. Two uploads at once may
     * each see the same room left, and together pass the quota by at most one upload's size.
     */
    public Budget budget(boolean newBytes) {
        if (!newBytes) {
            return new Budget(maxUpload, false, quota, -1);
        }
        long stored = storedBytes();
        long left = Math.max(0, quota - stored);
        return left < maxUpload ? new Budget(left, true, quota, stored) : new Budget(maxUpload, false, quota, stored);
    }

    /** Refuses, before a byte is read, an upload that says it is larger than its budget ({@code declared} -1: unsaid). */
    public void checkDeclared(Budget budget, long declared, String field) {
        if (declared > budget.maxBytes()) {
            throw tooLarge(budget, field);
        }
    }

    public ApiProblem tooLarge(Budget budget, String field) {
        if (budget.byQuota()) {
            return ApiProblem.uploadTooLarge("The Boss stores at most " + size(budget.quota()) + " of blobs ("
                    + QUOTA + "), " + size(budget.stored()) + " are stored, and this upload is larger than the "
                    + size(budget.maxBytes()) + " left. Delete dataset versions no longer needed (their bytes go once "
                    + "nothing refers to them), or raise " + QUOTA + " (environment variable " + env(QUOTA) + ").",
                    field);
        }
        return ApiProblem.uploadTooLarge("An upload may be at most " + size(budget.maxBytes()) + " (" + MAX_UPLOAD
                + "). Raise it with " + MAX_UPLOAD + " (environment variable " + env(MAX_UPLOAD) + "), e.g. "
                + env(MAX_UPLOAD) + "=8GB.", field);
    }

    long storedBytes() {
        long total = 0;
        for (BlobStore.Blob blob : store.all()) {
            total += blob.size();
        }
        return total;
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
