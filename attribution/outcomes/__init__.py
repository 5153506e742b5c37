"""CRM outcomes: deals a CRM reports (lead → qualified → won | lost, with a value), joined to
the calls that brought them (PRODUCT.md, "Outcome to call").

- `rules`: which call an outcome belongs to, staleness, how a change is written down (pure);
- `matching`: the candidate calls of a batch of outcomes, read set-based, and
  `match_waiting_outcomes`, which the call ingestion path runs for the calls it stored;
- `services`: `upsert_outcomes` (the API and the CRM adapters), `update_outcome` (the admin),
  the account's CRM stage mappings;
- `selectors`: outcomes with their history, the calls a batch names by external id;
- `adapters`: HubSpot and Salesforce payloads mapped onto the generic outcome input (pure).
"""
