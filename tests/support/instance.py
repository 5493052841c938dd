"""Case-system signals into a running instance (devkit.instance): a webhook
connection with delivered reports, and signed signals POSTed to the server."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from devkit.instance import shell
from devkit.webhooks import signed_json

# One transaction: a running dispatcher never sees the deliveries still pending.
WEBHOOK_REPORTS = """
from django.db import transaction
from municipalities.choices import ConnectionKind
from tests.support.casehub import confirmed_report, connect, delivery_of
ids = []
with transaction.atomic():
    connection = connect(
        ConnectionKind.WEBHOOK, endpoint="http://127.0.0.1:9/", secret_env={secret_env!r}
    )
    for n in range({count}):
        report = confirmed_report(title=f"Lampan är trasig {{n + 1}}")
        delivery = delivery_of(report)
        delivery.state, delivery.external_id = "delivered", f"CASE-{{n + 1}}"
        delivery.save()
        ids.append(report.pk)
print(connection.pk, *ids)
"""


def webhook_reports(env: dict, secret_env: str, count: int = 1) -> tuple[int, list]:
    """A webhook connection for Malmö (its secret in ``secret_env``) and ``count``
    confirmed Malmö reports already delivered through it: (connection id, report
    ids). Call after ``migrate`` and ``load_demo``."""
    connection_id, *report_ids = shell(
        env, WEBHOOK_REPORTS.format(secret_env=secret_env, count=count)
    )
    return int(connection_id), [int(pk) for pk in report_ids]


def signal_post(
    port: int, connection_id: int, data: dict, secret: str
) -> tuple[int, dict]:
    """POST a signed ``report.status`` signal to a running server: (status, JSON)."""
    body, headers = signed_json(secret, {"type": "report.status", "data": data})
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/connections/{connection_id}/signals",
        data=body,
        method="POST",
        headers={**headers, "Host": f"localhost:{port}"},
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")
