package com.maddatum.bench;

import java.util.Map;

/** RESULTS.md from the results map: a summary table, then each measure's numbers. */
final class Report {

    private Report() {}

    @SuppressWarnings("unchecked")
    static String markdown(Map<String, Object> results) {
        StringBuilder md = new StringBuilder("# Benchmark results\n\n");
        md.append("Written by `bench/run.sh` (mode: ").append(results.get("mode"))
                .append("). The JSON copy is `results.json` beside this file. Why the goals that were missed")
                .append(" were missed, from profiles: [ANALYSIS.md](ANALYSIS.md).\n\n");
        Map<String, Object> machine = (Map<String, Object>) results.get("machine");
        md.append("| machine | |\n|---|---|\n");
        machine.forEach((k, v) -> md.append("| ").append(k).append(" | ").append(v).append(" |\n"));
        Map<String, Object> measures = (Map<String, Object>) results.get("measures");
        md.append("\n| # | measure | result | goal | met |\n|---|---|---|---|---|\n");
        int n = 1;
        for (Map.Entry<String, Object> entry : measures.entrySet()) {
            Map<String, Object> m = (Map<String, Object>) entry.getValue();
            Object separately = m.get("measuredSeparatelyOn");
            String when = separately instanceof Map<?, ?> on ? " (measured on its own, " + on.get("date") + ")" : "";
            md.append("| ").append(n++).append(" | ").append(entry.getKey()).append(" | ")
                    .append(headline(entry.getKey(), m)).append(when)
                    .append(" | ").append(m.getOrDefault("goal", "")).append(" | ")
                    .append(m.containsKey("error") ? "error" : Boolean.TRUE.equals(m.get("met")) ? "yes" : "**no**")
                    .append(" |\n");
        }
        md.append("\n## Details\n");
        for (Map.Entry<String, Object> entry : measures.entrySet()) {
            md.append("\n### ").append(entry.getKey()).append("\n\n```\n")
                    .append(com.maddatum.testsupport.HttpJson.MAPPER.writerWithDefaultPrettyPrinter()
                            .writeValueAsString(entry.getValue()))
                    .append("\n```\n");
        }
        return md.toString();
    }

    @SuppressWarnings("unchecked")
    private static String headline(String name, Map<String, Object> m) {
        if (m.containsKey("error")) {
            return String.valueOf(m.get("error"));
        }
        return switch (name) {
            case "dispatchLatency" -> {
                Map<String, Object> l = (Map<String, Object>) m.get("latencyMs");
                yield "p50 " + l.get("p50") + " ms, p95 " + l.get("p95") + " ms, p99 " + l.get("p99") + " ms";
            }
            case "perJobOverhead" -> "ratio " + m.get("ratio") + " (" + m.get("overheadPerJobMs") + " ms a job over bare Python)";
            case "claimThroughput" -> {
                Map<String, Object> r = (Map<String, Object>) m.get("claimsPerSecond");
                yield r.get("p50") + " claims/s (min " + r.get("min") + ", max " + r.get("max") + "), "
                        + m.get("duplicates") + " duplicates";
            }
            case "growth" -> "t(largest)/t(smallest) = " + m.get("ratioLargestToSmallest") + "; footprint " + m.get("footprint");
            case "modelQuality" -> "median ratio " + m.get("medianRatio");
            case "transfers" -> "upload " + m.get("uploadMiBPerSecond") + " MiB/s, download " + m.get("downloadMiBPerSecond")
                    + " MiB/s, cp " + m.get("cpMiBPerSecond") + " MiB/s (x" + m.get("uploadRatioToCp") + ", x"
                    + m.get("downloadRatioToCp") + "); Boss heap " + m.get("bossHeapMiB");
            case "sweeps" -> "median best loss tpe " + m.get("tpeMedianBestLoss") + ", random " + m.get("randomMedianBestLoss")
                    + " (" + m.get("trialsPerSweep") + " trials, " + m.get("seeds") + " seeds); tpe / RidgeCV "
                    + m.get("medianTpeToRidgeCv") + "; later half's median loss " + m.get("laterHalfMedianLoss");
            case "readPaths" -> {
                Map<String, Object> c = (Map<String, Object>) m.get("claims");
                yield "worst route t(largest)/t(smallest) = " + m.get("worstRatio") + "; claim p99 "
                        + (c == null ? "?" : c.get("p99MsAlone") + " ms alone, " + c.get("p99MsWithDashboard")
                        + " ms with a dashboard (x" + c.get("ratio") + ")");
            }
            default -> "";
        };
    }
}
