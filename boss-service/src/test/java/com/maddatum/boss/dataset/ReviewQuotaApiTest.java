package com.maddatum.boss.dataset;

import static org.assertj.core.api.Assertions.assertThat;

import com.maddatum.boss.support.BossApiTestBase;
import com.maddatum.boss.support.RawHttp;
import java.net.http.HttpRequest;
import org.junit.jupiter.api.Test;
import org.springframework.test.context.TestPropertySource;

/** Review: the quota refuses bytes that are stored already, which would take nothing more. */
@TestPropertySource(properties = {"boss.datasets.max-upload-bytes=1MB", "boss.datasets.quota-bytes=2MB"})
class ReviewQuotaApiTest extends BossApiTestBase {

    @Test
    void sameBytesAgainAreNotRefusedByTheQuota() {
        RawHttp http = new RawHttp(port);
        int part = 700 * 1024;
        for (int i = 0; i < 2; i++) {
            RawHttp.Reply stored = http.send("POST", "/datasets?name=q" + i + ".bin", "application/octet-stream",
                    HttpRequest.BodyPublishers.ofInputStream(RawHttp.generated(part, 40 + i)));
            assertThat(stored.status()).as(stored.text()).isEqualTo(201);
        }
        // The very same upload again: "not a new version", stores nothing.
        RawHttp.Reply again = http.send("POST", "/datasets?name=q0.bin", "application/octet-stream",
                HttpRequest.BodyPublishers.ofInputStream(RawHttp.generated(part, 40)));
        assertThat(again.status()).as(again.text()).isEqualTo(200);
    }
}
