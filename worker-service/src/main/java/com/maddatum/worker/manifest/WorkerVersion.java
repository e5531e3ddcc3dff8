package com.maddatum.worker.manifest;

import com.maddatum.worker.common.Text;
import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** This Worker's version: the build's ({@code META-INF/build-info.properties}), the jar's, or "dev". */
final class WorkerVersion {

    private WorkerVersion() {}

    static String current() {
        try (InputStream in = WorkerVersion.class.getResourceAsStream("/META-INF/build-info.properties")) {
            if (in != null) {
                Properties build = new Properties();
                build.load(in);
                String version = build.getProperty("build.version");
                if (version != null && !version.isBlank()) {
                    return Text.abbreviate(version, RunManifest.MAX_TEXT);
                }
            }
        } catch (IOException e) {
            // fall through to the jar's manifest
        }
        String implementation = WorkerVersion.class.getPackage().getImplementationVersion();
        return implementation != null ? implementation : "dev";
    }
}
