"""The tamper-evident disclosure log: hash-chained, Ed25519-signed ``hub.audit`` records and their verification."""
