"""A stand-in for partners' webhook endpoints in `make demo`: verifies each Standard Webhooks signature and logs it.

Listens on 127.0.0.1:8099; POST /webhooks/<org>. Secrets come from `casehub webhooks secret <org>`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

ORGS = ("ngo-childline", "private-taejai")


def secret_of(org: str) -> str:
    out = subprocess.run([sys.executable, "-m", "casehub", "webhooks", "secret", org], capture_output=True, text=True,
                         check=True).stdout
    return out.strip().splitlines()[-1]


VERIFIERS = {org: Webhook(secret_of(org)) for org in ORGS}


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        org = self.path.rstrip("/").rsplit("/", 1)[-1]
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        verifier = VERIFIERS.get(org)
        try:
            if verifier is None:
                raise WebhookVerificationError(f"no secret for {org}")
            verifier.verify(body, dict(self.headers.items()))
        except WebhookVerificationError as exc:
            self.send_response(401)
            self.end_headers()
            print(json.dumps({"org": org, "verified": False, "error": str(exc)}), flush=True)
            return
        event = json.loads(body)
        self.send_response(204)
        self.end_headers()
        print(json.dumps({"org": org, "verified": True, "webhook_id": self.headers["webhook-id"], "type": event.get("type"),
                          "subject": event.get("subject")}, ensure_ascii=False), flush=True)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", 8099), Receiver).serve_forever()
