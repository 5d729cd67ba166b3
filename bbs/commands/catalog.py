"""Every command module, imported so that each registers itself.

Apart from the registry's package: the command modules import the registry,
so the package importing them back would be an import cycle.
"""

from __future__ import annotations

from bbs.commands import Registry, accounts, chat, keys, registry, sysop  # noqa: F401

__all__ = ["load"]


def load() -> Registry:
    """The registry with every command in it."""
    return registry
