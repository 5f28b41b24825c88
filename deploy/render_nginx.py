"""Render deploy/nginx/zhijia.conf.in into an nginx site (stdout), for production and for the rehearsal."""

from __future__ import annotations

import argparse
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent / "nginx" / "zhijia.conf.in"


def render(
    *,
    server_name: str,
    upstreams: list[str],
    cert: str,
    key: str,
    static_root: str,
    https_listen: str = "443",
    http_listen: str = "80",
    internal_networks: tuple[str, ...] = ("127.0.0.1", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"),
    proxy_params: str = "/etc/nginx/zhijia_proxy_params",
) -> str:
    values = {
        "server_name": server_name,
        "https_listen": https_listen,
        "http_listen": http_listen,
        # A host that fails once is left alone for 5 s (a killed host costs one failed connect per worker).
        "upstreams": "\n".join(f"    server {upstream} max_fails=1 fail_timeout=5s;" for upstream in upstreams),
        "cert": cert,
        "key": key,
        "static_root": static_root.rstrip("/"),
        "internal_networks": "\n".join(f"        allow {network};" for network in internal_networks),
    }
    text = TEMPLATE.read_text(encoding="utf-8")
    for name, value in values.items():
        text = text.replace("{{" + name + "}}", value)
    return text.replace("/etc/nginx/zhijia_proxy_params", proxy_params)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--server-name", required=True)
    parser.add_argument("--upstream", action="append", required=True, help="host:port of a gunicorn (repeat)")
    parser.add_argument("--cert", required=True, help="certificate chain (PEM)")
    parser.add_argument("--key", required=True, help="private key (PEM)")
    parser.add_argument("--static", required=True, help="the app/static folder of the release")
    parser.add_argument("--https-listen", default="443")
    parser.add_argument("--http-listen", default="80")
    args = parser.parse_args()
    print(
        render(
            server_name=args.server_name,
            upstreams=args.upstream,
            cert=args.cert,
            key=args.key,
            static_root=args.static,
            https_listen=args.https_listen,
            http_listen=args.http_listen,
        )
    )


if __name__ == "__main__":
    main()
