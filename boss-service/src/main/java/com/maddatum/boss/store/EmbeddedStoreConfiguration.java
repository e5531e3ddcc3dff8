package com.maddatum.boss.store;

import com.maddatum.boss.config.BossProperties;
import com.mongodb.ConnectionString;
import java.nio.file.Path;
import org.springframework.boot.autoconfigure.condition.ConditionalOnExpression;
import org.springframework.boot.mongodb.autoconfigure.MongoConnectionDetails;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Starts the embedded store when no {@code spring.mongodb.uri} is given and points Boot's Mongo
 * auto-configuration at it. (Boot 4 reads {@code spring.mongodb.uri}; the old
 * {@code spring.data.mongodb.uri} is silently ignored, so it does not switch this off.)
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnExpression("'${spring.mongodb.uri:}'.isBlank()")
class EmbeddedStoreConfiguration {

    static final String DATABASE = "boss";

    @Bean(destroyMethod = "close")
    EmbeddedMongo embeddedMongo(BossProperties properties) {
        return new EmbeddedMongo(Path.of(properties.store().dataDir()));
    }

    @Bean
    MongoConnectionDetails embeddedMongoConnectionDetails(EmbeddedMongo embeddedMongo) {
        ConnectionString connection = new ConnectionString(embeddedMongo.connectionString(DATABASE));
        return () -> connection;
    }
}
