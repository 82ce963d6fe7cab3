"""pytest fixtures for accord's compatibility tests.

Every test gets a fresh server (free port, temporary data directory). When a test
fails, its report carries the server's log, the bot's stdout/stderr and the
harness's own flow log, so a failure can be diagnosed from the pytest output alone.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import Server, accord_binary, tail


@pytest.fixture
def workdir(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    """A per-test folder whose *.log files are attached to the report on failure."""
    request.node._accord_workdir = tmp_path
    return tmp_path


@pytest.fixture
def server(workdir: Path):
    srv = Server(binary=accord_binary(), data_dir=workdir / "data", log_path=workdir / "server.log")
    try:
        srv.start()
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def unlimited_server(workdir: Path):
    """A server without REST rate limits, for tests that make thousands of requests."""
    srv = Server(
        binary=accord_binary(),
        data_dir=workdir / "data",
        log_path=workdir / "server.log",
        args=["--rate-limit-global", "0", "--rate-limit-route", "0"],
    )
    try:
        srv.start()
        yield srv
    finally:
        srv.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    rep = outcome.get_result()
    if not rep.failed:
        return
    workdir = getattr(item, "_accord_workdir", None)
    if workdir is None:
        return
    # Server log last: it is the longest and the most useful to read from its end.
    logs = sorted(workdir.glob("*.log"), key=lambda p: (p.name == "server.log", p.name))
    for path in logs:
        rep.sections.append((f"{rep.when}: {path.name}", tail(path)))
