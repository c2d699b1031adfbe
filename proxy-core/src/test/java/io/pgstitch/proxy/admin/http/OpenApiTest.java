package io.pgstitch.proxy.admin.http;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code /api/v1/openapi.json} documents exactly the routes the server answers: every route of {@link Endpoints}
 * is in it, and every operation in it is a route (AdminHttpIT then calls each documented operation).
 */
class OpenApiTest {

    static List<String> documented() throws Exception {
        JsonNode paths = Endpoints.JSON.readTree(OpenApi.document()).get("paths");
        List<String> operations = new ArrayList<>();
        paths.properties().forEach(path -> path.getValue().properties().forEach(operation -> {
            if (!operation.getKey().equals("parameters")) {
                operations.add(operation.getKey().toUpperCase(Locale.ROOT) + " " + path.getKey());
            }
        }));
        return operations;
    }

    @Test
    void theDocumentAndTheServerHaveTheSameRoutes() throws Exception {
        assertThat(documented()).containsExactlyInAnyOrderElementsOf(AdminHttpServer.routes());
    }

    @Test
    void everyOperationDocumentsItsErrorsAsErrorObjects() throws Exception {
        JsonNode document = Endpoints.JSON.readTree(OpenApi.document());
        assertThat(document.at("/openapi").asText()).startsWith("3.");
        assertThat(document.at("/components/schemas/Error/required").toString())
                .isEqualTo("[\"code\",\"name\",\"message\",\"hint\"]");
        document.get("paths").properties().forEach(path -> path.getValue().properties().forEach(operation -> {
            if (!operation.getKey().equals("parameters") && !path.getKey().matches("/(healthz|readyz)")) {
                assertThat(operation.getValue().at("/responses/401/content/application~1json/schema/$ref").asText())
                        .as(operation.getKey() + " " + path.getKey()).isEqualTo("#/components/schemas/Error");
            }
        }));
    }
}
