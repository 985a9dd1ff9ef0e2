package org.example.casehub;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import org.apache.avro.Schema;

/**
 * The Avro schemas records were written with, fetched from the URL in their {@code ce_dataschema} header (the hub's
 * gateway serves them without a key) and kept per URL: a published version never changes on the wire, so each URL
 * is fetched once per run.
 */
public final class WriterSchemas {

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private final Map<String, Schema> byUrl = new HashMap<>();

    /** The schema at {@code url}, fetched on first use. */
    public Schema at(String url) throws IOException, InterruptedException {
        Schema known = byUrl.get(url);
        if (known != null) {
            return known;
        }
        HttpRequest request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30))
                .header("Accept", "application/vnd.apache.avro+json, application/json").GET().build();
        HttpResponse<String> answer = http.send(request, HttpResponse.BodyHandlers.ofString());
        if (answer.statusCode() != 200) {
            throw new IOException("GET " + url + " answered " + answer.statusCode() + ": " + answer.body());
        }
        // a fresh parser per schema: each published schema defines every type it uses
        Schema schema = new Schema.Parser().parse(answer.body());
        byUrl.put(url, schema);
        return schema;
    }

    /** How many distinct schemas were fetched. */
    public int fetched() {
        return byUrl.size();
    }
}
