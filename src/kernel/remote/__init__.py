"""Split mode: a module's Protocols called from another process over HTTP, read from the Protocols themselves.

Nothing here knows a module. Every Protocol a hosted module provides is served on internal routes
(`server`: `POST /internal/v1/<module>/<Protocol>/<method>`, outside `/api/v1` and the OpenAPI document, open
only to a service token, `tokens`); a process that needs a Protocol of a module hosted elsewhere is handed a
client implementing it (`client`: timeouts, retries of the methods marked `@idempotent`, a circuit breaker per
module, a 503 naming the module when it cannot answer). Both sides derive the wire format from the Protocol's
signatures (`protocols`), so a method added to a Protocol is served and callable without a line here.
"""
