"""The demo data set: one advertiser, "Summit Home Services", with campaigns on every channel,
tracking numbers, two months of costs, visitor sessions and their number leases, calls and CRM
outcomes — consistent with the attribution rules, so every report and screen has something true
to show.

`load_demo` writes it; the other modules only plan rows (pure, seeded) or create the catalog."""

from attribution.demo.loader import DemoResult, load_demo, remove_demo

__all__ = ["DemoResult", "load_demo", "remove_demo"]
