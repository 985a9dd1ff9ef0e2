"""AsyncAPI 3.0 documents of casehub's Kafka interface: one partner's channels (``partner.partner_document``) or the
whole hub's (``hub.hub_document``), built from the registry, the topic plan and the Avro contract.

Nothing is imported here, so ``casehub partners ...`` verbs stay quick; see ``base.context`` for the inputs.
"""
