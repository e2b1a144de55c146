"""The docker-local preview target: `DockerStack`, a thin Pulumi shell over plan.py."""
from components.docker.stack import DockerStack  # noqa: F401
