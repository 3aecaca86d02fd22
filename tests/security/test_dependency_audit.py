"""tools/dependency_audit.py against a fake PyPI JSON API on 127.0.0.1, over real sockets.

The installed distributions are given to the audit, so these tests do not depend on the
environment they run in (except the last, which checks how that environment is listed).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tools.dependency_audit import Installed, installed_distributions, run


def advisory(
    ident: str, fixed_in: list[str], aliases: list[str] | None = None, withdrawn: str | None = None
) -> dict[str, Any]:
    return {
        "id": ident,
        "aliases": aliases or [],
        "fixed_in": fixed_in,
        "withdrawn": withdrawn,
        "details": f"Details of {ident}.\nSecond line.",
        "link": f"https://osv.dev/vulnerability/{ident}",
        "source": "osv",
        "summary": None,
    }


def project(
    latest: str, vulnerabilities: list[dict[str, Any]], older: tuple[str, ...] = ()
) -> dict[str, Any]:
    return {
        "info": {"name": "x", "version": latest},
        "releases": {version: [] for version in (*older, latest)},
        "urls": [],
        "vulnerabilities": vulnerabilities,
    }


@dataclass
class FakePyPI:
    url: str
    projects: dict[str, dict[str, Any]]
    requests: list[str] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)


def _listening_socket() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    return sock


@pytest.fixture
async def pypi() -> AsyncIterator[FakePyPI]:
    sock = _listening_socket()
    fake = FakePyPI(url=f"http://127.0.0.1:{sock.getsockname()[1]}/pypi", projects={})

    async def project_json(request: Request) -> Response:
        name = request.path_params["name"]
        fake.requests.append(name)
        if fake.failures.get(name, 0) > 0:
            fake.failures[name] -= 1
            return Response("busy", status_code=503)
        if name not in fake.projects:
            return JSONResponse({"message": "Not Found"}, status_code=404)
        return JSONResponse(fake.projects[name])

    app = Starlette(routes=[Route("/pypi/{name}/json", project_json)])
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="off", timeout_graceful_shutdown=1))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    yield fake
    server.should_exit = True
    await serving
    sock.close()


async def audit(
    fake: FakePyPI, installed: list[Installed], *extra: str, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    status = await run(["--index-url", fake.url, "--retries", "1", *extra], installed=installed)
    return status, capsys.readouterr().out


async def test_an_advisory_of_the_installed_latest_release_is_reported_and_fails(
    pypi: FakePyPI, capsys: pytest.CaptureFixture[str]
) -> None:
    pypi.projects["leaky"] = project(
        "2.0.0", [advisory("PYSEC-2099-1", ["2.0.1"], aliases=["CVE-2099-0001"])]
    )
    pypi.projects["clean"] = project("1.0", [])

    status, out = await audit(pypi, [Installed("leaky", "2.0.0"), Installed("clean", "1.0")], capsys=capsys)

    assert status == 1
    assert "VULNERABLE leaky 2.0.0" in out
    assert "PYSEC-2099-1 (aliases: CVE-2099-0001; fixed in: 2.0.1)" in out
    assert "Details of PYSEC-2099-1." in out
    assert "conservative" not in out
    assert "clean" not in out.split("dependency-audit:")[0]
    assert "2 audited, 1 vulnerable, 0 not latest, 0 unknown" in out


async def test_an_older_release_below_a_fix_of_the_latest_is_vulnerable_conservatively(
    pypi: FakePyPI, capsys: pytest.CaptureFixture[str]
) -> None:
    # The latest, 3.1, is affected and the fix is 3.2 (unreleased): 2.5 is below it.
    pypi.projects["oldie"] = project("3.1", [advisory("GHSA-aaaa-bbbb-cccc", ["3.2"])], older=("2.5",))

    status, out = await audit(pypi, [Installed("oldie", "2.5")], capsys=capsys)

    assert status == 1
    assert "VULNERABLE oldie 2.5" in out
    assert "conservative" in out
    assert "GHSA-aaaa-bbbb-cccc (aliases: none; fixed in: 3.2)" in out
    assert "not latest: oldie 2.5 installed, 3.1 available" in out
    assert "1 audited, 1 vulnerable, 1 not latest, 0 unknown" in out


async def test_an_older_release_covered_by_a_backport_fix_is_only_not_latest(
    pypi: FakePyPI, capsys: pytest.CaptureFixture[str]
) -> None:
    pypi.projects["branches"] = project("2.0.0", [advisory("PYSEC-2099-7", ["1.26.18", "2.0.7"])])

    status, out = await audit(pypi, [Installed("branches", "1.26.19")], capsys=capsys)

    assert status == 0
    assert "VULNERABLE" not in out
    assert "not latest: branches 1.26.19 installed, 2.0.0 available" in out
    assert "1 audited, 0 vulnerable, 1 not latest, 0 unknown" in out


async def test_a_withdrawn_advisory_is_not_counted(
    pypi: FakePyPI, capsys: pytest.CaptureFixture[str]
) -> None:
    pypi.projects["retracted"] = project(
        "1.0", [advisory("PYSEC-2099-2", ["1.1"], withdrawn="2099-01-02T00:00:00Z")]
    )

    status, out = await audit(pypi, [Installed("retracted", "1.0")], capsys=capsys)

    assert status == 0
    assert "PYSEC-2099-2" not in out
    assert "1 audited, 0 vulnerable, 0 not latest, 0 unknown" in out


async def test_ignore_accepts_an_advisory_by_id_or_alias(
    pypi: FakePyPI, capsys: pytest.CaptureFixture[str]
) -> None:
    pypi.projects["accepted"] = project(
        "1.0",
        [advisory("PYSEC-2099-3", [], aliases=["CVE-2099-0003"]), advisory("PYSEC-2099-4", ["1.1"])],
    )
    installed = [Installed("accepted", "1.0")]

    status, out = await audit(pypi, installed, "--ignore", "CVE-2099-0003", capsys=capsys)
    assert status == 1
    assert "ignored (reviewed): accepted 1.0 PYSEC-2099-3" in out
    assert "PYSEC-2099-4 (aliases: none; fixed in: 1.1)" in out

    status, out = await audit(
        pypi, installed, "--ignore", "CVE-2099-0003", "--ignore", "PYSEC-2099-4", capsys=capsys
    )
    assert status == 0
    assert "VULNERABLE" not in out
    assert "ignored (reviewed): accepted 1.0 PYSEC-2099-4" in out


async def test_a_project_pypi_does_not_know_is_listed_and_does_not_fail(
    pypi: FakePyPI, capsys: pytest.CaptureFixture[str]
) -> None:
    pypi.projects["known"] = project("1.0", [])

    status, out = await audit(
        pypi, [Installed("known", "1.0"), Installed("Private_Thing", "0.1")], capsys=capsys
    )

    assert status == 0
    assert "not on PyPI: cannot audit: Private_Thing 0.1" in out
    assert "1 audited, 0 vulnerable, 0 not latest, 1 unknown" in out
    # Asked under its PEP 503 name.
    assert "private-thing" in pypi.requests


async def test_a_busy_index_is_retried(pypi: FakePyPI, capsys: pytest.CaptureFixture[str]) -> None:
    pypi.projects["flaky"] = project("1.0", [advisory("PYSEC-2099-5", ["1.1"])])
    pypi.failures["flaky"] = 1

    status, out = await audit(pypi, [Installed("flaky", "1.0")], capsys=capsys)

    assert status == 1
    assert pypi.requests == ["flaky", "flaky"]
    assert "VULNERABLE flaky 1.0" in out


async def test_an_unreachable_index_exits_2_and_says_what_to_do(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/pypi"

    status = await run(["--index-url", url, "--retries", "0"], installed=[Installed("anything", "1.0")])
    out = capsys.readouterr().out

    assert status == 2
    assert f"PyPI cannot be reached at {url}" in out
    assert "No distribution was audited" in out
    assert "--index-url" in out
    assert "HTTPS_PROXY" in out


def test_the_environment_is_listed_without_helpline_itself() -> None:
    names = {dist.name.lower() for dist in installed_distributions()}

    assert "helpline" not in names
    assert {"httpx", "starlette", "packaging"} <= names


async def test_a_project_that_cannot_be_fetched_makes_the_audit_incomplete(
    pypi: FakePyPI, capsys: pytest.CaptureFixture[str]
) -> None:
    pypi.projects["fine"] = project("1.0", [])
    pypi.projects["down"] = project("1.0", [])
    pypi.failures["down"] = 5

    status, out = await audit(pypi, [Installed("fine", "1.0"), Installed("down", "1.0")], capsys=capsys)

    assert status == 2
    assert "could not fetch: down (HTTPStatusError" in out
    assert "1 audited, 0 vulnerable, 0 not latest, 0 unknown, 1 not fetched" in out
    assert "incomplete" in out
