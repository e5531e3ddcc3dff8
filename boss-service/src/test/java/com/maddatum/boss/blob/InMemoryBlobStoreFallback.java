package com.maddatum.boss.blob;

import java.time.Clock;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * Tests only: an {@link InMemoryBlobStore} when the application defines no {@link BlobStore} of its own.
 * Registered as an auto-configuration (src/test/resources/META-INF/spring), so the condition is decided
 * after the application's beans: once a real store is a bean, this one is not made.
 */
@AutoConfiguration
class InMemoryBlobStoreFallback {

    @Bean
    @ConditionalOnMissingBean(BlobStore.class)
    InMemoryBlobStore inMemoryBlobStore(Clock clock) {
        return new InMemoryBlobStore(clock);
    }
}
