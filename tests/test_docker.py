"""The deployment files, checked statically (no Docker engine here)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from govflow.bootstrap import Settings

DOCKER = Path(__file__).parents[1] / "docker"
SETTINGS = {f"GOVFLOW_{name.upper()}" for name in Settings.model_fields}


def compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((DOCKER / "compose.yaml").read_text(encoding="utf-8"))


def test_every_service_has_an_image_and_a_health_check() -> None:
    """Each long-running service names its image (or build) and how to tell it is healthy."""
    services = compose()["services"]
    assert {"postgresql", "temporal", "temporal-ui", "api", "worker"} <= set(services)
    for name, service in services.items():
        assert "image" in service or "build" in service, name
        if service.get("restart") != "no":
            assert service["healthcheck"]["test"], name


def test_govflow_services_run_the_right_commands_against_postgres_and_temporal() -> None:
    """api and worker share one image and point at PostgreSQL and the Temporal server."""
    services = compose()["services"]
    assert services["api"]["command"] == ["api"] and services["worker"]["command"] == ["worker"]
    assert services["api"]["image"] == services["worker"]["image"]
    for name in ("api", "worker"):
        environment = services[name]["environment"]
        assert environment["GOVFLOW_PERSISTENCE"] == "postgres"
        assert environment["GOVFLOW_TEMPORAL_ADDRESS"] == "temporal:7233"
    assert services["temporal"]["environment"]["DB"] == "postgres12"


def test_setting_names_exist() -> None:
    """Every GOVFLOW_ name in compose.yaml and .env.example is a real setting, and the example
    lists them all."""
    text = (DOCKER / "compose.yaml").read_text(encoding="utf-8")
    example = (DOCKER / ".env.example").read_text(encoding="utf-8")
    used = set(re.findall(r"GOVFLOW_[A-Z_]+", text)) | set(re.findall(r"GOVFLOW_[A-Z_]+", example))
    assert used <= SETTINGS, used - SETTINGS
    assert set(re.findall(r"GOVFLOW_[A-Z_]+", example)) == SETTINGS


def test_search_attributes_are_registered_on_the_cluster() -> None:
    """A workflow using an unregistered search attribute would retry forever."""
    from govflow.orchestration.workflows import SEARCH_ATTRIBUTES

    command = compose()["services"]["temporal-setup"]["command"]
    for key in SEARCH_ATTRIBUTES:
        assert key.name in command


def test_dockerfile_is_multi_stage_non_root_with_procedures() -> None:
    """Two stages, a non-root user, the procedures copied in, govflow as the entry point."""
    text = (DOCKER / "Dockerfile").read_text(encoding="utf-8")
    assert len(re.findall(r"^FROM ", text, re.MULTILINE)) >= 2
    users = re.findall(r"^USER (\S+)", text, re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    assert "COPY workflows" in text and 'ENTRYPOINT ["govflow"]' in text


def test_the_api_keeps_its_data_directory_on_a_volume() -> None:
    """Meeting evidence outlives the container: the API's data directory is a named volume,
    created owned by the non-root user in the image."""
    document = compose()
    api = document["services"]["api"]
    data_dir = api["environment"]["GOVFLOW_DATA_DIR"]
    mounts = {m.split(":")[1]: m.split(":")[0] for m in api["volumes"]}
    assert mounts[data_dir] in document["volumes"]
    dockerfile = (Path(__file__).parents[1] / "docker" / "Dockerfile").read_text()
    assert f"chown govflow:govflow {data_dir}" in dockerfile
