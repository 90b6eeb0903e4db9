"""Shared fixtures. Ray is started once per test session, on loopback, quiet (docs/design.md, "Ray")."""

from __future__ import annotations

import pytest

from orchestrator.raylocal import set_local_env

set_local_env()  # before anything imports ray


@pytest.fixture(scope="session")
def ray_session():
    from orchestrator.raylocal import RaySession

    with RaySession(num_cpus=2) as session:
        yield session
