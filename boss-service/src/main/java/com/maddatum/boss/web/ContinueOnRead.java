package com.maddatum.boss.web;

import org.springframework.boot.tomcat.TomcatConnectorCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Tomcat answers {@code Expect: 100-continue} only when a route starts reading the body, not before the
 * route runs (its default). A Worker uploading an artifact asks before it sends a GiB: a refusal decided
 * from the headers alone (a {@code Content-Length} over the limit, a bad hash parameter) then reaches it
 * as a status and a problem it can read, instead of a connection cut under a body half sent.
 */
@Configuration(proxyBeanMethods = false)
class ContinueOnRead {

    @Bean
    TomcatConnectorCustomizer continueResponseTimingOnRead() {
        return connector -> connector.setProperty("continueResponseTiming", "onRead");
    }
}
