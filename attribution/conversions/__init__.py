"""Offline conversions: the outbox of conversions for ad platforms and signed webhooks.

- `services` writes outbox rows in the business transaction (an outcome reaching a mapped
  stage, an answered call long enough) and retries one by hand; `destinations` writes the
  destinations and their rules;
- `facts` reads what a conversion is about; `rules` holds the pure decisions (dedup keys,
  values, backoff, required settings);
- `delivery` claims due rows (`FOR UPDATE SKIP LOCKED`), sends them through the platform
  adapters in `platforms/` and records each row's fate; `tasks` are the Celery entry points.
"""
