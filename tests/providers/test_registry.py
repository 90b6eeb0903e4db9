"""make_provider: lazy factories, keys from the environment, clear configuration errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from providers.anthropic_provider import AnthropicProvider
from providers.errors import ProviderConfigError
from providers.openai_provider import OpenAIProvider
from providers.registry import EndpointSpec, make_provider, simulator_root
from providers.types import CompletionRequest, Message, Provider

REQUEST = CompletionRequest(model="oracle", messages=(Message(role="user", content="hello"),), max_tokens=32)


@pytest.mark.parametrize(("api_format", "adapter"), [("openai", OpenAIProvider), ("anthropic", AnthropicProvider)])
async def test_simulated_endpoints_talk_to_a_running_simulator(sim, api_format, adapter):
    for base_url in (sim.base_url, sim.base_url + "/v1/"):
        provider = make_provider(EndpointSpec(kind="simulated", base_url=base_url, api_format=api_format))
        assert isinstance(provider, adapter) and isinstance(provider, Provider)
        assert "hello" in (await provider.complete(REQUEST)).text
        await provider.aclose()
    assert sim.stats()["by_model"]["oracle"] == {"ok": 2}


def test_simulator_root_accepts_either_url():
    assert simulator_root("http://127.0.0.1:9/v1/") == simulator_root("http://127.0.0.1:9") == "http://127.0.0.1:9"


async def test_vendor_endpoints_read_their_key_variable(monkeypatch):
    monkeypatch.setenv("MY_VLLM_KEY", "secret-value")
    provider = make_provider(EndpointSpec(kind="openai", base_url="http://127.0.0.1:1/v1", api_key_env="MY_VLLM_KEY"))
    assert isinstance(provider, OpenAIProvider)
    await provider.aclose()
    monkeypatch.setenv("ANTHROPIC_API_KEY", "secret-value")
    provider = make_provider(EndpointSpec(kind="anthropic"))
    assert isinstance(provider, AnthropicProvider)
    await provider.aclose()


def test_missing_key_names_the_variable(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ProviderConfigError, match="OPENAI_API_KEY"):
        make_provider(EndpointSpec(kind="openai"))


def test_configuration_errors_are_one_clear_line(monkeypatch):
    with pytest.raises(ProviderConfigError, match="base_url of a running simulator"):
        make_provider(EndpointSpec(kind="simulated"))
    with pytest.raises(ProviderConfigError, match="unknown provider kind 'bedrock'"):
        make_provider(EndpointSpec(kind="bedrock"))  # type: ignore[arg-type]
    with pytest.raises(ProviderConfigError, match="does not take that option.*colour"):
        make_provider(EndpointSpec(kind="simulated", base_url="http://127.0.0.1:1", options={"colour": "red"}))


def test_local_without_its_extra_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "providers.local", None)  # makes the import fail
    with pytest.raises(ProviderConfigError, match=r"pip install 'toolsweep\[local\]'"):
        make_provider(EndpointSpec(kind="local"))


def test_importing_the_registry_imports_no_sdk():
    code = ("import sys, providers.registry; "
            "print(sorted(m for m in ('openai', 'anthropic', 'providers.local') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
