"""Security profile 2: the same Basic auth over TLS (wss), when the server has a certificate."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path

import pytest
from ocpp_harness import start_server
from websockets.exceptions import InvalidStatus

from fuseshare.sim.chargepoint import SimChargePoint, SimSettings


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[str, str]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is needed to make a test certificate")
    directory: Path = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return str(cert), str(key)


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_basic_auth_over_tls(certificate, version):
    running = await start_server(tls=certificate)
    context = ssl.create_default_context(cafile=certificate[0])
    try:
        running.directory.add("CH-TLS", "pw", failsafe_a=10.0)

        def sim(password: str) -> SimChargePoint:
            return SimChargePoint(
                SimSettings(
                    serial="CH-TLS",
                    password=password,
                    base_url=running.base_url,
                    version=version,  # type: ignore[arg-type]
                    ssl_context=context,
                )
            )

        assert running.base_url.startswith("wss://")
        with pytest.raises(InvalidStatus) as info:
            await sim("wrong").connect()
        assert info.value.response.status_code == 401

        async with sim("pw") as cp:
            assert await cp.boot() == "Accepted"
            await running.central.wait_ready("CH-TLS")
            assert cp.effective_limit_a() == 10.0
    finally:
        await running.central.close()
        await running.stop()
