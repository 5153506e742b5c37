"""Attribution credits: the touchpoints of each call and the share every attribution model gives
each touch (PRODUCT.md, "Touchpoints and models").

- `rules`: the rule-based models and exact apportioning to 15 places (pure);
- `markov`: the data-driven model's removal effects from transition counts (pure);
- `selectors`: touchpoints and Markov transition counts, read set-based from PostgreSQL;
- `services`: `recompute_credits` (a few calls) and `recompute_account_credits` (bulk);
- `tasks`: the Celery entry point of the bulk path (nightly beat).
"""
