package org.example.casehub;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DecoderFactory;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads the partner's outbound topic ({@code partner.<org>.outbound}), decodes every record with the Avro schema its
 * {@code ce_dataschema} header names (fetched over HTTP, kept per URL) and prints one JSON line per record:
 * {@code {"topic", "partition", "offset", "key", "ce_type", "ce_id", "ce_dataschema", "data"}}.
 *
 * <pre>java -jar target/casehub-outbound-consumer.jar --credentials hosp-nakornping.json [--group NAME]
 *      [--until-end] [--timeout SECONDS]</pre>
 *
 * Offsets are committed after each batch is printed, in the consumer group {@code <org>.<NAME>} (a partner may use
 * only groups named after itself). {@code --until-end} stops once everything written so far was read; without it
 * the consumer follows the topic until Ctrl-C. {@code data} is Avro's JSON rendering of the record: timestamps are
 * epoch milliseconds and dates days since 1970-01-01, as Avro holds them.
 */
public final class OutboundConsumer {

    private OutboundConsumer() {
    }

    public static void main(String[] args) throws Exception {
        Options options;
        try {
            options = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            System.err.println("usage: java -jar casehub-outbound-consumer.jar --credentials ORG.json [--group NAME] "
                    + "[--until-end] [--timeout SECONDS]");
            System.exit(64);
            return;
        }
        PartnerCredentials credentials = PartnerCredentials.load(options.credentials);
        String topic = "partner." + credentials.org() + ".outbound";
        Properties properties = credentials.kafkaProperties();
        properties.put("group.id", credentials.org() + "." + options.group);
        properties.put("client.id", credentials.org() + "-java-consumer");
        properties.put("key.deserializer", ByteArrayDeserializer.class.getName());
        properties.put("value.deserializer", ByteArrayDeserializer.class.getName());
        properties.put("enable.auto.commit", "false");
        properties.put("auto.offset.reset", "earliest");
        // the hub writes with transactions: only what it committed is a delivery
        properties.put("isolation.level", "read_committed");

        WriterSchemas schemas = new WriterSchemas();
        long deadline = options.timeoutSeconds > 0 ? System.nanoTime() + options.timeoutSeconds * 1_000_000_000L : Long.MAX_VALUE;
        long printed = 0;
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(properties)) {
            Thread main = Thread.currentThread();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                consumer.wakeup();
                try {
                    main.join(10_000);
                } catch (InterruptedException ignored) {
                    Thread.currentThread().interrupt();
                }
            }));
            consumer.subscribe(List.of(topic));
            Map<TopicPartition, Long> ends = null;
            while (true) {
                ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(500));
                for (ConsumerRecord<byte[], byte[]> record : records) {
                    System.out.println(jsonLine(record, schemas));
                    printed++;
                }
                System.out.flush();
                if (!records.isEmpty()) {
                    consumer.commitSync();
                }
                if (options.untilEnd && !consumer.assignment().isEmpty()) {
                    if (ends == null) {
                        ends = consumer.endOffsets(consumer.assignment());
                    }
                    if (caughtUp(consumer, ends)) {
                        break;
                    }
                }
                if (System.nanoTime() > deadline) {
                    System.err.println("error: not at the end of " + topic + " after " + options.timeoutSeconds + " s");
                    System.exit(2);
                }
            }
        } catch (WakeupException stopping) {
            // Ctrl-C: the consumer closes (leaving its group) on the way out
        }
        System.err.printf("%d record(s) from %s, %d writer schema(s) fetched%n", printed, topic, schemas.fetched());
    }

    private static boolean caughtUp(KafkaConsumer<byte[], byte[]> consumer, Map<TopicPartition, Long> ends) {
        for (Map.Entry<TopicPartition, Long> end : ends.entrySet()) {
            if (consumer.position(end.getKey()) < end.getValue()) {
                return false;
            }
        }
        return true;
    }

    /** One record as a JSON line; a record that cannot be decoded is printed with an "error" instead of "data". */
    static String jsonLine(ConsumerRecord<byte[], byte[]> record, WriterSchemas schemas) throws InterruptedException {
        String dataschema = header(record, "ce_dataschema");
        StringBuilder line = new StringBuilder()
                .append("{\"topic\": ").append(quoted(record.topic()))
                .append(", \"partition\": ").append(record.partition())
                .append(", \"offset\": ").append(record.offset())
                .append(", \"key\": ").append(quoted(record.key() == null ? null : new String(record.key(), StandardCharsets.UTF_8)))
                .append(", \"ce_type\": ").append(quoted(header(record, "ce_type")))
                .append(", \"ce_id\": ").append(quoted(header(record, "ce_id")))
                .append(", \"ce_dataschema\": ").append(quoted(dataschema));
        try {
            if (dataschema == null || !(dataschema.startsWith("https://") || dataschema.startsWith("http://"))) {
                throw new IOException("ce_dataschema " + dataschema + " is not a schema URL");
            }
            Schema writer = schemas.at(dataschema);
            GenericRecord data = new GenericDatumReader<GenericRecord>(writer)
                    .read(null, DecoderFactory.get().binaryDecoder(record.value(), null));
            line.append(", \"data\": ").append(GenericData.get().toString(data));
        } catch (IOException | RuntimeException e) {
            line.append(", \"error\": ").append(quoted(e.getClass().getSimpleName() + ": " + e.getMessage()));
        }
        return line.append("}").toString();
    }

    private static String header(ConsumerRecord<byte[], byte[]> record, String name) {
        Header found = record.headers().lastHeader(name);
        return found == null || found.value() == null ? null : new String(found.value(), StandardCharsets.UTF_8);
    }

    /** A JSON string (Avro's rendering escapes quotes, backslashes and control characters), or null. */
    private static String quoted(String text) {
        return text == null ? "null" : GenericData.get().toString(text);
    }

    /** The command line. */
    private record Options(Path credentials, String group, boolean untilEnd, long timeoutSeconds) {

        static Options parse(String[] args) {
            Path credentials = null;
            String group = "java-consumer";
            boolean untilEnd = false;
            long timeout = 0;
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--credentials" -> credentials = Path.of(value(args, ++i, "--credentials"));
                    case "--group" -> group = value(args, ++i, "--group");
                    case "--until-end" -> untilEnd = true;
                    case "--timeout" -> timeout = Long.parseLong(value(args, ++i, "--timeout"));
                    default -> throw new IllegalArgumentException("unknown argument " + args[i]);
                }
            }
            if (credentials == null) {
                throw new IllegalArgumentException("--credentials is required");
            }
            return new Options(credentials, group, untilEnd, timeout);
        }

        private static String value(String[] args, int index, String name) {
            if (index >= args.length) {
                throw new IllegalArgumentException(name + " needs a value");
            }
            return args[index];
        }
    }
}
