"""A real etcd + kube-apiserver on free 127.0.0.1 ports, for tests/test_apiserver.py.

RBAC, the PodSecurity admission plugin, a static admin token, a self-signed serving cert
and service-account key; no controllers and no kubelet run, so nothing is scheduled and
objects are only admitted, validated and stored. The binaries are the pinned ones that
scripts/install-kube.sh links into .bin/ (kube-apiserver, kubectl, etcd, crds/).
"""
from __future__ import annotations

import datetime
import http.client
import ipaddress
import json
import secrets
import ssl
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from binaries import BIN, binary
from stackctl.up_local import free_port

START_TIMEOUT = 180     # seconds; etcd and the API server on a busy 2-core machine
KUBECTL_TIMEOUT = 120
CRDS = ("cert-manager", "prometheus-operator")   # .bin/crds/<name>/*.yaml


def wait_until(what: str, ready, proc: subprocess.Popen, log: Path, timeout: float = START_TIMEOUT) -> None:
    """Poll `ready()` until true; fail at the deadline or when the process exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{what} exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        if ready():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} not ready within {timeout}s:\n{log.read_text()[-4000:]}")


def _get(url: str, context: ssl.SSLContext | None = None, token: str | None = None) -> bool:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(req, timeout=5, context=context) as resp:
            return resp.status == 200
    except (OSError, urllib.error.URLError):
        return False


def _pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


def write_certs(d: Path) -> dict[str, Path]:
    """A self-signed serving cert for 127.0.0.1 (also the client's CA) and a service-account key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    paths = {"cert": d / "serving.crt", "key": d / "serving.key", "sa": d / "sa.key", "sa_pub": d / "sa.pub"}
    paths["cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths["key"].write_bytes(_pem(key))
    sa = ec.generate_private_key(ec.SECP256R1())
    paths["sa"].write_bytes(_pem(sa))
    paths["sa_pub"].write_bytes(sa.public_key().public_bytes(serialization.Encoding.PEM,
                                                             serialization.PublicFormat.SubjectPublicKeyInfo))
    return paths


@dataclass
class ApiServer:
    url: str
    kubeconfig: Path
    procs: list[subprocess.Popen]
    token: str
    context: ssl.SSLContext

    def kubectl(self, *args: str, stdin: str | None = None, check: bool = True,
                timeout: float = KUBECTL_TIMEOUT) -> subprocess.CompletedProcess:
        run = subprocess.run([binary("kubectl"), "--kubeconfig", str(self.kubeconfig),
                              "--cache-dir", str(self.kubeconfig.parent / "kube-cache"), *args], input=stdin,
                             capture_output=True, text=True, timeout=timeout)
        if check and run.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} exited {run.returncode}:\n{run.stderr}")
        return run

    def request(self, method: str, path: str, body: bytes, headers: list[tuple[str, str]]) -> tuple[int, dict]:
        """One call as the admin: (status, decoded JSON answer). http.client, not urllib: a header may
        repeat (Impersonate-Group is one line per group, as kubectl sends it)."""
        conn = http.client.HTTPSConnection(urllib.parse.urlsplit(self.url).netloc, context=self.context,
                                           timeout=KUBECTL_TIMEOUT)
        try:
            conn.putrequest(method, path)
            for key, value in [("Authorization", f"Bearer {self.token}"), ("Content-Length", str(len(body))),
                               *headers]:
                conn.putheader(key, value)
            conn.endheaders(body)
            resp = conn.getresponse()
            return resp.status, json.load(resp)
        finally:
            conn.close()

    def can_i(self, verb: str, resource: str, namespace: str | None, user: str, groups: list[str]) -> bool:
        """The question `kubectl auth can-i VERB RESOURCE [-n NS] --as USER --as-group G...` asks: a
        SelfSubjectAccessReview sent as the impersonated user. A kubectl process costs about 0.13-0.5
        CPU-s; the tests ask about a thousand of these. `resource` is kubectl's spelling:
        plural[.group][/subresource]."""
        name, _, subresource = resource.partition("/")
        plural, _, group = name.partition(".")
        attributes = {"verb": verb, "resource": plural, "group": group, "subresource": subresource,
                      **({"namespace": namespace} if namespace else {})}
        body = json.dumps({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                           "spec": {"resourceAttributes": attributes}}).encode()
        status, answer = self.request("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", body,
                                      [("Content-Type", "application/json"), ("Impersonate-User", user),
                                       *(("Impersonate-Group", g) for g in groups)])
        assert status == 201, answer
        return bool(answer["status"].get("allowed"))

    def apply_dry_run(self, path: str, obj: dict, field_manager: str) -> tuple[int, dict]:
        """A server-side apply (the PATCH `kubectl apply --server-side --dry-run=server` sends) of one
        object at its REST path: (status, the stored object or the refusal's Status)."""
        query = urllib.parse.urlencode({"fieldManager": field_manager, "dryRun": "All"})
        return self.request("PATCH", f"{path}?{query}", json.dumps(obj).encode(),
                            [("Content-Type", "application/apply-patch+yaml")])

    def install_crds(self, names: tuple[str, ...] = CRDS) -> list[str]:
        """Apply the real CRDs (server-side) and wait until each is Established; their names."""
        files = sorted(f for n in names for f in (BIN / "crds" / n).glob("*.yaml"))
        assert files, f"no CRDs under {BIN / 'crds'}: run scripts/setup.sh"
        applied = self.kubectl("apply", "--server-side", "--field-manager=llmobs-test", "-o", "name",
                               *(a for f in files for a in ("-f", str(f)))).stdout.split()
        self.kubectl("wait", "--for=condition=Established", f"--timeout={START_TIMEOUT}s", *applied,
                     timeout=START_TIMEOUT + 10)
        return [name.split("/", 1)[1] for name in applied]

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.kill()
            proc.wait(timeout=30)


def start(tmp: Path) -> ApiServer:
    """etcd, then kube-apiserver on it; returns once /readyz answers (RBAC roles bootstrapped)."""
    procs: list[subprocess.Popen] = []
    try:
        return _start(tmp, procs)
    except BaseException:
        for proc in procs:
            proc.kill()
            proc.wait(timeout=30)
        raise


def _start(tmp: Path, procs: list[subprocess.Popen]) -> ApiServer:
    client, peer, secure = free_port(), free_port(), free_port()
    etcd_url, peer_url = f"http://127.0.0.1:{client}", f"http://127.0.0.1:{peer}"
    etcd_log = tmp / "etcd.log"
    with etcd_log.open("w") as log:
        procs.append(subprocess.Popen(
            [binary("etcd"), "--name=test", f"--data-dir={tmp / 'etcd'}", f"--listen-client-urls={etcd_url}",
             f"--advertise-client-urls={etcd_url}", f"--listen-peer-urls={peer_url}",
             f"--initial-advertise-peer-urls={peer_url}", f"--initial-cluster=test={peer_url}"],
            stdout=log, stderr=subprocess.STDOUT))
    wait_until("etcd", lambda: _get(f"{etcd_url}/health"), procs[0], etcd_log)

    certs = write_certs(tmp)
    token = secrets.token_hex(16)
    tokens = tmp / "tokens.csv"
    tokens.write_text(f'{token},admin,admin-uid,"system:masters"\n')
    api_log = tmp / "kube-apiserver.log"
    with api_log.open("w") as log:
        procs.append(subprocess.Popen(
            [binary("kube-apiserver"), f"--etcd-servers={etcd_url}", "--bind-address=127.0.0.1",
             "--advertise-address=127.0.0.1", f"--secure-port={secure}", f"--cert-dir={tmp / 'certs'}",
             f"--tls-cert-file={certs['cert']}", f"--tls-private-key-file={certs['key']}",
             f"--token-auth-file={tokens}", "--authorization-mode=RBAC",
             "--enable-admission-plugins=PodSecurity", "--endpoint-reconciler-type=none",
             "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
             f"--service-account-key-file={certs['sa_pub']}", f"--service-account-signing-key-file={certs['sa']}",
             "--service-cluster-ip-range=10.96.0.0/16", "--profiling=false"],
            stdout=log, stderr=subprocess.STDOUT))
    url = f"https://127.0.0.1:{secure}"
    context = ssl.create_default_context(cafile=str(certs["cert"]))
    wait_until("kube-apiserver", lambda: _get(f"{url}/readyz", context, token), procs[1], api_log)

    kubeconfig = tmp / "kubeconfig"
    kubeconfig.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "test",
        "clusters": [{"name": "test", "cluster": {"server": url, "certificate-authority": str(certs["cert"])}}],
        "users": [{"name": "admin", "user": {"token": token}}],
        "contexts": [{"name": "test", "context": {"cluster": "test", "user": "admin"}}]}))
    return ApiServer(url, kubeconfig, procs, token, context)
