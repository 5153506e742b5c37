"""Attribution truth: a seeded market simulator that measures how often a call lands on the
right session, driving the real DNI allocation and the real call join on PostgreSQL.

- `market.py`: the simulated site and its visitors' habits (the assumptions, printed with results);
- `traffic.py`: the plan (arrivals, visits, heartbeats, calls with their true visit); pure;
- `scoring.py`: right session / campaign and the cause of each wrong join; pure;
- `engine.py`: the replay through `attribution.dni.leases` and `calls.services.record_calls`;
- `sweep.py`, `report.py`, `__main__.py`: the pool size × idle timeout sweep and its outputs.

Run it with `make simulate`; results go to bench/results/simulate/.
"""
