package com.maddatum.boss.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.maddatum.boss.support.TestProperties;
import java.util.Map;
import org.bson.Document;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tools.jackson.databind.json.JsonMapper;

class JsonInputTest {

    private final JsonMapper mapper = JsonMapper.builder().build();
    private final JsonInput input = new JsonInput(TestProperties.with(Map.of(
            "boss.limits.max-depth", "4", "boss.limits.max-fields", "20")));

    @Test
    void keepsTypesAndOrderOfEveryField() {
        Document d = input.toDocument(mapper.readTree(
                "{\"b\":1,\"a\":2.5,\"c\":[true,null,\"x\"],\"big\":5000000000,\"o\":{\"k\":\"v\"}}"), "A job");
        assertThat(d.keySet()).containsExactly("b", "a", "c", "big", "o");
        assertThat(d.get("b")).isEqualTo(1);
        assertThat(d.get("a")).isEqualTo(2.5);
        assertThat(d.get("big")).isEqualTo(5_000_000_000L);
        assertThat(d.get("o", Document.class)).containsEntry("k", "v");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{\"$where\":1}|$where",
        "{\"a.b\":1}|a.b",
        "{\"o\":{\"$gt\":1}}|o.$gt",
        "{\"x\":1e400}|x",
        "{\"l\":[1,-1e999]}|l[1]",
        "{\"n\":123456789012345678901234}|n",
        "{\"a\":{\"b\":{\"c\":{\"d\":1}}}}|a.b.c.d",
        "[1]|body",
        "\"text\"|body",
    })
    void refusesUnsafeInputNamingTheField(String json, String field) {
        assertThatThrownBy(() -> input.toDocument(mapper.readTree(json), "A job"))
                .isInstanceOf(ApiProblem.class)
                .satisfies(e -> assertThat(((ApiProblem) e).toProblemDetail().getProperties())
                        .containsEntry("field", field));
    }

    @Test
    void capsTheNumberOfValues() {
        StringBuilder json = new StringBuilder("{");
        for (int i = 0; i < 25; i++) {
            json.append(i == 0 ? "" : ",").append("\"k").append(i).append("\":").append(i);
        }
        assertThatThrownBy(() -> input.toDocument(mapper.readTree(json.append("}").toString()), "A job"))
                .isInstanceOf(ApiProblem.class).hasMessageContaining("more than 20 values");
    }
}
