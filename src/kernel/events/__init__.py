"""Event machinery: envelope, transactional outbox, relay, inbox de-duplication, transports."""
