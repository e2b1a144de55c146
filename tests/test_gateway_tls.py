"""TLS on the gateway's OTLP receivers, with the real collector: a CA and a server
certificate made here (cryptography), the rendered config pointed at them, OTLP over
gRPC and HTTP accepted with the CA trusted and refused without it or in plaintext."""
from __future__ import annotations

import datetime
import ipaddress
import ssl
import urllib.error
import urllib.request
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

import collector_config
from collector_harness import TOKEN, RunningCollector
from settings import validate
from stacks import KUBE

TLS_SETTINGS = {**KUBE, "ingest": {"tls": {"mode": "secret"}}}


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_ca_and_cert(directory: Path) -> Path:
    """ca.crt, tls.crt (for localhost and 127.0.0.1), tls.key in `directory`; returns ca.crt."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("llmobs test CA")).issuer_name(_name("llmobs test CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name("collector")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "ca.crt").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (directory / "tls.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "tls.key").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                          serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))
    (directory / "tls.key").chmod(0o600)
    return directory / "ca.crt"


def test_receivers_get_tls_only_where_apps_connect():
    settings = validate(TLS_SETTINGS)
    for tier in ("single", "agent"):
        protocols = collector_config.render(settings, tier=tier)["receivers"]["otlp"]["protocols"]
        for proto in ("grpc", "http"):
            assert protocols[proto]["tls"]["cert_file"] == "/etc/llmobs/tls/tls.crt"
            assert protocols[proto]["tls"]["key_file"] == "/etc/llmobs/tls/tls.key"
            assert protocols[proto]["tls"]["min_version"] == "1.2"
    sampler = collector_config.render(settings, tier="sampler")["receivers"]["otlp"]["protocols"]
    assert "tls" not in sampler["grpc"]          # the sampler hears only the agent tier, in the namespace
    plain = collector_config.render(validate({**KUBE}))["receivers"]["otlp"]["protocols"]
    assert "tls" not in plain["grpc"] and "tls" not in plain["http"]


def _export(channel: grpc.Channel) -> None:
    stub = trace_service_pb2_grpc.TraceServiceStub(channel)
    stub.Export(trace_service_pb2.ExportTraceServiceRequest(), metadata=[("authorization", f"Bearer {TOKEN}")],
                timeout=5)


@pytest.fixture(scope="module")
def tls_gateway(tmp_path_factory):
    certs = tmp_path_factory.mktemp("certs")
    ca = make_ca_and_cert(certs)
    gateway = RunningCollector(validate(TLS_SETTINGS), tier="single")
    gateway.config_text = gateway.config_text.replace(collector_config.TLS_DIR, str(certs))
    assert str(certs / "tls.crt") in gateway.config_text
    with gateway:
        yield gateway, ca


def test_grpc_over_tls_with_the_ca_trusted(tls_gateway):
    gateway, ca = tls_gateway
    creds = grpc.ssl_channel_credentials(root_certificates=ca.read_bytes())
    with grpc.secure_channel(gateway.grpc_endpoint, creds) as channel:
        _export(channel)   # raises on any failure


def test_grpc_refused_without_the_ca_or_in_plaintext(tls_gateway):
    gateway, _ = tls_gateway
    with grpc.secure_channel(gateway.grpc_endpoint, grpc.ssl_channel_credentials()) as channel:
        with pytest.raises(grpc.RpcError) as untrusted:
            _export(channel)
    assert untrusted.value.code() == grpc.StatusCode.UNAVAILABLE
    with grpc.insecure_channel(gateway.grpc_endpoint) as channel:
        with pytest.raises(grpc.RpcError) as plaintext:
            _export(channel)
    assert plaintext.value.code() == grpc.StatusCode.UNAVAILABLE


def _post(url: str, context: ssl.SSLContext | None) -> int:
    req = urllib.request.Request(url, data=b"{}", headers={"Content-Type": "application/json",
                                                           "Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(req, timeout=5, context=context) as r:
        return r.status


def test_http_over_tls_with_the_ca_trusted_and_refused_without(tls_gateway):
    gateway, ca = tls_gateway
    https = f"https://127.0.0.1:{gateway.listen.http_port}/v1/traces"
    assert _post(https, ssl.create_default_context(cafile=str(ca))) == 200
    with pytest.raises(urllib.error.URLError) as untrusted:
        _post(https, ssl.create_default_context())
    assert isinstance(untrusted.value.reason, ssl.SSLCertVerificationError)
    # Plaintext HTTP to the TLS port: Go's server answers 400 and serves nothing.
    with pytest.raises(urllib.error.HTTPError) as plaintext:
        _post(f"http://127.0.0.1:{gateway.listen.http_port}/v1/traces", None)
    assert plaintext.value.code == 400
