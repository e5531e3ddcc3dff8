package com.maddatum.worker.config;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.mock.env.MockEnvironment;

class ManagementAddressTest {

    private static String address(MockEnvironment environment) {
        new ManagementAddress().postProcessEnvironment(environment, new SpringApplication());
        return environment.getProperty("management.server.address");
    }

    @Test
    void aManagementPortOfItsOwnListensWhereTheServerListens() {
        assertThat(address(new MockEnvironment().withProperty("server.address", "127.0.0.1")
                .withProperty("server.port", "8081").withProperty("management.server.port", "8082"))).isEqualTo("127.0.0.1");
        assertThat(address(new MockEnvironment().withProperty("server.address", "127.0.0.1")
                .withProperty("server.port", "0").withProperty("management.server.port", "0"))).isEqualTo("127.0.0.1");
    }

    @Test
    void anExplicitAddressWinsAndASharedPortGetsNone() {
        assertThat(address(new MockEnvironment().withProperty("server.address", "127.0.0.1")
                .withProperty("management.server.port", "8082").withProperty("management.server.address", "0.0.0.0")))
                .isEqualTo("0.0.0.0");
        // Boot refuses an address for a management server that shares the server's port.
        assertThat(address(new MockEnvironment().withProperty("server.address", "127.0.0.1")
                .withProperty("server.port", "8081").withProperty("management.server.port", "8081"))).isNull();
    }
}
