package com.maddatum.boss.worker;

import com.maddatum.boss.security.NodeAccess;
import com.maddatum.boss.web.ApiProblem;
import com.maddatum.boss.web.BsonView;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.validation.Valid;
import java.util.Map;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/** The seed's {@code /worker-node/create}: a node says who it is and what it offers. */
@RestController
@Tag(name = "workers")
class WorkerController {

    private final WorkerRegistry registry;
    private final NodeAccess nodes;

    WorkerController(WorkerRegistry registry, NodeAccess nodes) {
        this.registry = registry;
        this.nodes = nodes;
    }

    @Operation(summary = "Register or update a worker node (the seed's route)")
    @io.swagger.v3.oas.annotations.parameters.RequestBody(content = @Content(examples = @ExampleObject(value =
            "{\"name\":\"gpu-1\",\"labels\":[\"gpu\",\"cuda\"],\"slots\":2,\"host\":\"gpu-1.lab\",\"gpus\":"
            + "[{\"index\":0,\"model\":\"NVIDIA H100\",\"memoryMb\":81559}],\"scripts\":[\"nn.py\",\"sk.py\"]}")))
    @PostMapping("/worker-node/create")
    Map<String, Object> create(@Valid @RequestBody WorkerRegistration registration) {
        if (registration.effectiveName() == null) {
            throw ApiProblem.invalidField("name", "name (or the seed's nodeName) is required.");
        }
        nodes.require(WorkerRegistry.checkNodeName(registration.effectiveName(), "name"));
        return BsonView.plain(registry.register(registration));
    }
}
