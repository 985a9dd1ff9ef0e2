"""The HTTP gateway (`casehub gateway`): partners without Kafka publish, read cases and follow deliveries over HTTP.

Entry point: ``casehub.connectors.gateway.app.create_app(settings)``; API keys: ``casehub.connectors.gateway.keys``.
"""
