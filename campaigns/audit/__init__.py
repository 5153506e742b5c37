"""The audit trail: who read or exported personal data, and who changed settings or credentials.

`models.AuditEvent` is append-only; `services.record_event` writes one row in the caller's
transaction, so an audited change and its event commit together or not at all."""
