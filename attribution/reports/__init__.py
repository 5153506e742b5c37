"""Reports: ROI, the finance cost-per-call export and call KPIs (PRODUCT.md, "Report figures").

- `figures` and `groups`: the arithmetic and the parameters, pure.
- `selectors`: the reads the API and the admin dashboard call (the stable interface).
- `rollups`: the derived tables the reads use, and how they are kept current.
- `naive`: the same figures straight from the raw rows, the reference the rollups must equal.
"""
