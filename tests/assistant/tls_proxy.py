"""The repository's nginx configuration (docker/nginx/booka.conf.template), started with
Debian's nginx on loopback ports in front of a test stack, with a self-signed certificate.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "docker/nginx/booka.conf.template"


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for localhost and 127.0.0.1 (and its key); being its own issuer, the
    certificate file is also the trust store the stack's clients are given."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "tls.crt", directory / "tls.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


def render(values: dict[str, str]) -> str:
    """The template with its ${BOOKA_...} placeholders filled (nginx's own $variables stay)."""

    def value(match: re.Match[str]) -> str:
        if match.group(1) not in values:
            raise KeyError(f"no value for ${{{match.group(1)}}}")
        return values[match.group(1)]

    return re.sub(r"\$\{(BOOKA_[A-Z_]+)\}", value, TEMPLATE.read_text())


def user_line() -> str:
    """Workers as the test's own user: they read and write under the test's private
    directory (nginx started as root would otherwise run them as nobody)."""
    return "user root;" if os.geteuid() == 0 else ""


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")
    if not found:
        raise RuntimeError("nginx is not installed: run scripts/install-deploy-tools")
    return found


def start_nginx(directory: Path, values: dict[str, str]) -> subprocess.Popen:
    """nginx in the foreground with everything it writes under `directory`; returns once the
    HTTPS port accepts connections."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "booka.conf").write_text(render(values))
    mime_types = "/etc/nginx/mime.types"
    (directory / "nginx.conf").write_text(
        f"""worker_processes 1;
{user_line()}
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;
events {{ worker_connections 512; }}
http {{
    {f"include {mime_types};" if Path(mime_types).exists() else ""}
    access_log {directory}/access.log;
    client_body_temp_path {directory}/body;
    proxy_temp_path {directory}/proxy;
    fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi;
    scgi_temp_path {directory}/scgi;
    include {directory}/booka.conf;
}}
"""
    )
    binary = nginx_binary()
    checked = subprocess.run(
        [binary, "-t", "-p", str(directory), "-c", str(directory / "nginx.conf")],
        capture_output=True,
        text=True,
    )
    if checked.returncode != 0:
        raise RuntimeError(f"nginx -t refused the configuration:\n{checked.stderr}")
    process = subprocess.Popen(
        [binary, "-p", str(directory), "-c", str(directory / "nginx.conf"), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=open(directory / "stderr.log", "ab"),
    )
    deadline = time.monotonic() + 15
    while True:
        try:
            socket.create_connection(("127.0.0.1", int(values["BOOKA_HTTPS_PORT"])), 0.5).close()
            return process
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(
                    "nginx did not start: " + (directory / "stderr.log").read_text()[-2000:]
                ) from None
            time.sleep(0.05)
