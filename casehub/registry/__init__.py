"""The partner registry: which organisations exist, what they receive, and how much personal detail."""

from casehub.registry.loader import load_registry, parse_registry
from casehub.registry.model import Disclosure, Jurisdiction, LocalisedName, Partner, PartnerKind, Subscription
from casehub.registry.registry import Registry, ResponsibleUnits

__all__ = [
    "Disclosure",
    "Jurisdiction",
    "LocalisedName",
    "Partner",
    "PartnerKind",
    "Registry",
    "ResponsibleUnits",
    "Subscription",
    "load_registry",
    "parse_registry",
]
