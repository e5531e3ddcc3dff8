package com.maddatum.worker.client;

import com.maddatum.worker.config.Gpu;
import java.util.List;

/** {@code POST /worker-node/create}. */
public record Registration(String name, List<String> labels, int slots, String host, List<Gpu> gpus,
        List<String> scripts) {}
