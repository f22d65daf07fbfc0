"""The cloud side of a namespace lab, run inside the cloud namespace with ``ip netns exec``:

    ip netns exec <cloud ns> python -m tests.harness.net.ns_cloud CONFIG.json

A DNS server (the netlab's) answering the FQDNs with their cloud-namespace addresses, and one TLS
site per FQDN on port 443 (certificates from a lab CA, interception switchable). It prints one JSON
line when ready (``{"resolver": [host, port], "ca_bundle": path}``), then takes one JSON command per
stdin line and answers one JSON line: ``{"op": "dns", "fqdn", "answer": null | address}``,
``{"op": "restore", "fqdn"}``, ``{"op": "intercept", "fqdn", "enabled"}``, ``{"op": "reset"}``.
It exits when stdin closes, so it never outlives the test that started it.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from aiohttp import web

from virtual_appliances.common.pki import LabCA
from virtual_appliances.common.redact import Redactor
from virtual_appliances.common.reqlog import RequestLog
from virtual_appliances.netlab.dns import DnsTable, LabDnsServer
from virtual_appliances.netlab.sites import Sites

HTTPS_PORT = 443


def site_app(fqdn: str) -> web.Application:
    async def whoami(request: web.Request) -> web.Response:
        return web.json_response({"site": fqdn, "peer": request.remote})

    app = web.Application()
    app.router.add_get("/{tail:.*}", whoami)
    return app


def handle(command: dict[str, Any], table: DnsTable, sites: Sites) -> dict[str, Any]:
    op, fqdn = command.get("op"), command.get("fqdn", "")
    if op == "dns":
        table.override(fqdn, command.get("answer"))
    elif op == "restore":
        table.restore(fqdn)
    elif op == "intercept":
        sites.identities[fqdn].intercept(bool(command.get("enabled")))
    elif op == "reset":
        table.reset()
        sites.reset()
    else:
        return {"ok": False, "error": f"unknown op {op!r}"}
    return {"ok": True}


async def serve(config: dict[str, Any]) -> None:
    loop = asyncio.get_running_loop()
    addresses: dict[str, str] = dict(config["addresses"])
    ca = LabCA(Path(config["dir"]))
    table = DnsTable(addresses)
    dns_server = LabDnsServer(table, RequestLog(Redactor()), host=config["dns_host"])
    sites = Sites(ca)
    try:
        await dns_server.start()
        await sites.start(loop, {f: site_app(f) for f in addresses}, addresses, HTTPS_PORT, {})
        print(json.dumps({"resolver": [dns_server.host, dns_server.port], "ca_bundle": str(ca.bundle)}), flush=True)
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while line := await reader.readline():
            try:
                reply = handle(json.loads(line), table, sites)
            except (ValueError, KeyError) as exc:
                reply = {"ok": False, "error": str(exc)}
            print(json.dumps(reply), flush=True)
    finally:
        await sites.stop()
        await dns_server.stop()


def main() -> int:
    config = json.loads(Path(sys.argv[1]).read_text())
    asyncio.run(serve(config))
    return 0


if __name__ == "__main__":
    sys.exit(main())
