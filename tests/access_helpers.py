"""Partners with a Kafka identity of their own for tests: their ACLs from the plan and a fresh SCRAM password."""

from __future__ import annotations

import json
from pathlib import Path

from casehub.access.acls import partner_grants
from casehub.access.apply import _acl, set_partner_password
from casehub.connectors.sdk import PartnerCredentials
from casehub.core.settings import Settings
from casehub.ops.topics import admin_client
from casehub.registry.model import Disclosure


def grant_partner(settings: Settings, org: str, disclosure: str = "full") -> None:
    """Create exactly the ACLs `casehub access apply` gives partner ``org`` (without touching anyone else's)."""
    with admin_client(settings, "admin") as admin:
        result = admin.create_acls([_acl(g) for g in partner_grants(org, Disclosure(disclosure))])
        assert not result.get("failed"), result


def partner_credentials(settings: Settings, org: str, disclosure: str = "full") -> PartnerCredentials:
    """What `casehub partners credentials ORG --json` prints, for a partner that exists only in this test."""
    grant_partner(settings, org, disclosure)
    password = set_partner_password(settings, org, rotate=True)
    return PartnerCredentials(org=org, bootstrap=settings.bootstrap_servers(), security_protocol="SASL_SSL",
                              ca_pem=(settings.home / "tls" / "ca.pem").read_text(), username=org, password=password,
                              sasl_mechanism="SCRAM-SHA-512")


def credentials_file(settings: Settings, org: str, folder: Path, disclosure: str = "full") -> Path:
    """The same, saved as the JSON file a partner keeps."""
    creds = partner_credentials(settings, org, disclosure)
    path = folder / f"{org}.json"
    path.write_text(json.dumps({"org": org, "username": creds.username, "password": creds.password,
                                "bootstrap": creds.bootstrap, "security_protocol": creds.security_protocol,
                                "sasl_mechanism": creds.sasl_mechanism, "ca_pem": creds.ca_pem}))
    return path
