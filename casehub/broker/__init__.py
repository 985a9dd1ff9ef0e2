"""A local Apache Kafka cluster in KRaft mode, fetched from Maven Central and started on loopback."""
