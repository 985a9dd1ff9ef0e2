"""Make the cluster's SCRAM users and ACLs match the plan, idempotently; issue and rotate partners' credentials.

Only principals casehub manages are touched: partners (ids of the registry's shape) and ``casehub-*``
services. A second apply with the same registry changes nothing.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from kafka.admin import (
    ACL,
    ACLFilter,
    ACLOperation,
    ACLPermissionType,
    ACLResourcePatternType,
    ResourcePattern,
    ResourcePatternFilter,
    ResourceType,
)
from kafka.admin._users import ScramMechanism, UserScramCredentialDeletion, UserScramCredentialUpsertion
from kafka.errors import KafkaError

from casehub.access.acls import MANAGED_SERVICES, Grant, plan_grants
from casehub.access.exceptions import AccessApplyFailed, CredentialsRefused
from casehub.core import topics
from casehub.core.kafka_connection import PRINCIPAL_PREFIX, principal_of, read_local_password, write_local_password
from casehub.core.settings import Settings
from casehub.ops.topics import admin_client
from casehub.registry import Registry

MECHANISM = ScramMechanism.SCRAM_SHA_512
ADMIN = principal_of("admin")
BATCH = 1000


def new_password() -> str:
    return secrets.token_urlsafe(24)


def is_managed(principal: str) -> bool:
    """Whether casehub owns this principal (a partner id or a hub service), so apply may change or remove it."""
    return principal != ADMIN and (principal.startswith(PRINCIPAL_PREFIX) or bool(topics.ORG_ID.match(principal)))


@dataclass
class AccessReport:
    """What an apply changed (or, with dry_run, would change)."""

    dry_run: bool
    users_created: list[str] = field(default_factory=list)
    users_removed: list[str] = field(default_factory=list)
    acls_added: list[Grant] = field(default_factory=list)
    acls_removed: list[Grant] = field(default_factory=list)
    acls_total: int = 0
    partners: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.users_created or self.users_removed or self.acls_added or self.acls_removed)

    def as_json(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run, "changed": self.changed, "partners": self.partners, "acls_total": self.acls_total,
            "users_created": self.users_created, "users_removed": self.users_removed,
            "acls_added": [g.describe() for g in self.acls_added],
            "acls_removed": [g.describe() for g in self.acls_removed],
            "seconds": round(self.seconds, 3),
        }


def _acl(grant: Grant) -> ACL:
    return ACL(
        principal=f"User:{grant.principal}", host="*", operation=ACLOperation[grant.operation],
        permission_type=ACLPermissionType.ALLOW,
        resource_pattern=ResourcePattern(ResourceType[grant.resource], grant.name, ACLResourcePatternType[grant.pattern]),
    )


def _grant(acl: ACL) -> Grant | None:
    """The plan's view of an ACL read from the cluster; None for rules casehub never writes (DENY, a host, ...)."""
    principal = str(acl.principal)
    if not principal.startswith("User:") or acl.host != "*" or acl.permission_type != ACLPermissionType.ALLOW:
        return None
    pattern = acl.resource_pattern
    try:
        return Grant(principal[5:], ResourceType(pattern.resource_type).name, pattern.resource_name,  # type: ignore[arg-type]
                     ACLResourcePatternType(pattern.pattern_type).name, ACLOperation(acl.operation).name)  # type: ignore[arg-type]
    except ValueError:
        return None


def current_grants(admin: Any) -> tuple[set[Grant], list[ACL]]:
    """Every ACL in the cluster whose principal casehub manages: as grants, and the raw ACLs that fit no grant."""
    any_filter = ACLFilter(principal=None, host="*", operation=ACLOperation.ANY, permission_type=ACLPermissionType.ANY,
                           resource_pattern=ResourcePatternFilter(ResourceType.ANY, None, ACLResourcePatternType.ANY))
    acls, error = admin.describe_acls(any_filter)
    if error is not None and getattr(error, "errno", None):
        raise AccessApplyFailed(f"the cluster would not list its ACLs: {error}", hint="is the authorizer enabled?")
    grants: set[Grant] = set()
    foreign: list[ACL] = []
    for acl in acls:
        principal = str(acl.principal)[5:] if str(acl.principal).startswith("User:") else ""
        if not is_managed(principal):
            continue
        grant = _grant(acl)
        if grant is None:
            foreign.append(acl)
        else:
            grants.add(grant)
    return grants, foreign


def scram_users(admin: Any) -> set[str]:
    return {user for user, info in admin.describe_user_scram_credentials().items() if not info.get("error")}


def _batches(items: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(items), BATCH):
        yield items[start:start + BATCH]


def apply_access(settings: Settings, registry: Registry, *, dry_run: bool = False) -> AccessReport:
    """Bring users and ACLs in line with ``registry``; with ``dry_run``, only report what would change."""
    started = time.monotonic()
    report = AccessReport(dry_run=dry_run, partners=len(registry.partners))
    plan = plan_grants(registry, settings)
    report.acls_total = len(plan)
    try:
        with admin_client(settings, "admin") as admin:
            users = scram_users(admin)
            services = {principal_of(s): s for s in MANAGED_SERVICES}
            scram_partners = {p.id for p in registry.partners.values() if p.auth == "scram"}
            for name in sorted(services):
                # a deployment (docker/compose.yaml) creates its services' users itself: never reset those; a local
                # cluster whose password file was lost gets a new one
                local_lost = not settings.kafka_bootstrap and read_local_password(settings, name) is None
                if name not in users or local_lost:
                    report.users_created.append(name)
                    if not dry_run:
                        _set_service_password(admin, settings, name)
            report.users_removed = sorted(u for u in users if is_managed(u) and u not in services and u not in scram_partners)
            if report.users_removed and not dry_run:
                _check(admin.alter_user_scram_credentials(
                    [UserScramCredentialDeletion(u, MECHANISM) for u in report.users_removed]), "remove users")
            existing, foreign = current_grants(admin)
            report.acls_added = sorted(plan - existing)
            report.acls_removed = sorted(existing - plan)
            if not dry_run:
                for batch in _batches(report.acls_added):
                    result = admin.create_acls([_acl(g) for g in batch])
                    if result.get("failed"):
                        raise AccessApplyFailed(f"the cluster refused {len(result['failed'])} ACLs: {result['failed'][:3]}")
                removals = [_filter(_acl(g)) for g in report.acls_removed] + [_filter(acl) for acl in foreign]
                for batch in _batches(removals):
                    admin.delete_acls(batch)
    except KafkaError as exc:
        raise AccessApplyFailed(f"access apply failed: {type(exc).__name__}: {exc}",
                                hint="the admin principal (casehub-admin) must be a super user of the cluster") from exc
    report.seconds = time.monotonic() - started
    return report


def _filter(acl: ACL) -> ACLFilter:
    """A filter that matches exactly ``acl`` (DeleteAcls takes filters)."""
    return ACLFilter(principal=acl.principal, host=acl.host, operation=acl.operation,
                     permission_type=acl.permission_type, resource_pattern=acl.resource_pattern)


def _check(result: dict[str, str | None], action: str) -> None:
    failed = {user: error for user, error in result.items() if error}
    if failed:
        raise AccessApplyFailed(f"could not {action}: {failed}")


def _set_service_password(admin: Any, settings: Settings, user: str) -> None:
    password = new_password()
    _check(admin.alter_user_scram_credentials([UserScramCredentialUpsertion(user, MECHANISM, password)]), f"create {user}")
    write_local_password(settings, user, password)


def set_partner_password(settings: Settings, org: str, *, rotate: bool) -> str:
    """A new SCRAM password for partner ``org``; only its salted hash is stored (in the cluster). Returns the password."""
    try:
        with admin_client(settings, "admin") as admin:
            exists = org in scram_users(admin)
            if exists and not rotate:
                raise CredentialsRefused(
                    f"{org} already has Kafka credentials; they are shown only once",
                    hint=f"`casehub partners credentials {org} --rotate` issues new ones (the old password stops working)",
                )
            password = new_password()
            _check(admin.alter_user_scram_credentials([UserScramCredentialUpsertion(org, MECHANISM, password)]),
                   f"set the password of {org}")
            return password
    except KafkaError as exc:
        raise AccessApplyFailed(f"could not set the credentials of {org}: {type(exc).__name__}: {exc}") from exc
