package com.maddatum.boss.log;

import com.maddatum.boss.order.OrderQueries;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.bson.types.ObjectId;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

/**
 * Followers of a running order's log ({@code GET /jobs/{id}/logs?follow=true}): each new batch is
 * pushed to them as an SSE {@code log} event, and an {@code end} event closes the stream once the
 * order has finished. (Followers see batches that reach this Boss replica.)
 */
@Component
class LogHub {

    private final Map<ObjectId, List<SseEmitter>> followers = new ConcurrentHashMap<>();
    private final OrderQueries orders;

    LogHub(OrderQueries orders) {
        this.orders = orders;
    }

    void follow(ObjectId orderId, SseEmitter emitter) {
        List<SseEmitter> list = followers.computeIfAbsent(orderId, id -> new CopyOnWriteArrayList<>());
        list.add(emitter);
        Runnable forget = () -> list.remove(emitter);
        emitter.onCompletion(forget);
        emitter.onTimeout(forget);
        emitter.onError(error -> forget.run());
    }

    void publish(ObjectId orderId, String text) {
        for (SseEmitter emitter : followers.getOrDefault(orderId, List.of())) {
            try {
                emitter.send(SseEmitter.event().name("log").data(text));
            } catch (IOException | IllegalStateException gone) {
                emitter.completeWithError(gone);
            }
        }
    }

    /** Closes the streams of orders that have finished. */
    @Scheduled(fixedDelay = 1000)
    void endFinished() {
        followers.forEach((orderId, list) -> {
            if (list.isEmpty()) {
                followers.remove(orderId, list);
                return;
            }
            orders.findById(orderId).filter(order -> order.status().isTerminal()).ifPresent(order -> {
                for (SseEmitter emitter : list) {
                    try {
                        emitter.send(SseEmitter.event().name("end").data(order.status().wire()));
                        emitter.complete();
                    } catch (IOException | IllegalStateException gone) {
                        emitter.completeWithError(gone);
                    }
                }
                followers.remove(orderId);
            });
        });
    }
}
