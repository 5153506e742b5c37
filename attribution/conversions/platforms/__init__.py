"""The platform adapters of the offline-conversion outbox, one module per Destination kind.
What an adapter provides is described in `base`."""

from __future__ import annotations

from types import ModuleType

from attribution.conversions.platforms import (
    google_ads,
    google_data_manager,
    meta,
    microsoft_ads,
    webhook,
)

_ADAPTERS: dict[str, ModuleType] = {
    module.KIND: module
    for module in (google_data_manager, google_ads, meta, microsoft_ads, webhook)
}
KINDS = tuple(_ADAPTERS)


def adapter(kind: str) -> ModuleType:
    """The adapter module of a Destination kind; KeyError for an unknown kind."""
    try:
        return _ADAPTERS[kind]
    except KeyError:
        raise KeyError(f"no conversion adapter for destination kind {kind!r}") from None
