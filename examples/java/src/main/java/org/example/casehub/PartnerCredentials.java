package org.example.casehub;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DecoderFactory;

/**
 * The Kafka identity an operator issued to the partner: the JSON of {@code casehub partners credentials ORG --json},
 * {@code {"org", "username", "password", "bootstrap", "security_protocol", "sasl_mechanism", "ca_pem"}}.
 *
 * <p>The JSON is read with Avro's JSON decoder against a record schema of those fields (Avro is a dependency
 * already; fields may come in any order and unknown ones are skipped).
 */
public record PartnerCredentials(String org, String username, String password, String bootstrap,
                                 String securityProtocol, String saslMechanism, String caPem) {

    private static final Schema SHAPE = SchemaBuilder.record("PartnerCredentials").fields()
            .requiredString("org").requiredString("username").requiredString("password")
            .requiredString("bootstrap").requiredString("security_protocol").requiredString("sasl_mechanism")
            .requiredString("ca_pem").endRecord();

    /** Reads the credentials file; fails with a message naming the file when a field is missing. */
    public static PartnerCredentials load(Path file) throws IOException {
        String json = Files.readString(file, StandardCharsets.UTF_8);
        GenericRecord read;
        try {
            read = new GenericDatumReader<GenericRecord>(SHAPE).read(null, DecoderFactory.get().jsonDecoder(SHAPE, json));
        } catch (IOException | RuntimeException e) {
            throw new IOException(file + " is not the JSON of `casehub partners credentials ORG --json`: " + e.getMessage(), e);
        }
        return new PartnerCredentials(text(read, "org"), text(read, "username"), text(read, "password"),
                text(read, "bootstrap"), text(read, "security_protocol"), text(read, "sasl_mechanism"),
                text(read, "ca_pem"));
    }

    private static String text(GenericRecord record, String field) {
        return record.get(field).toString();
    }

    /**
     * Consumer properties for this identity: SCRAM over TLS, trusting only the CA in the file (PEM, no keystore
     * needed). Passwords are JAAS-quoted, so a quote or backslash in one cannot break the login line.
     */
    public Properties kafkaProperties() {
        Properties properties = new Properties();
        properties.put("bootstrap.servers", bootstrap);
        properties.put("security.protocol", securityProtocol);
        properties.put("sasl.mechanism", saslMechanism);
        properties.put("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
                + jaasQuoted(username) + "\" password=\"" + jaasQuoted(password) + "\";");
        properties.put("ssl.truststore.type", "PEM");
        properties.put("ssl.truststore.certificates", caPem);
        return properties;
    }

    private static String jaasQuoted(String value) {
        return value.replace("\\", "\\\\").replace("\"", "\\\"");
    }
}
