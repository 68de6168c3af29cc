"""What the engine needs besides torch: the ``engine`` extra of pyproject.toml, as data.

The bundle carries no pyproject.toml, so the list lives here; a test keeps it equal to the extra.
``constraints.txt`` (the exact versions the tests ran with) is used when it is beside the program.
"""

from __future__ import annotations

from pathlib import Path

from installer.home import program_dir

# torch and torchvision are not here: the decision table pins them as a pair of one build.
ENGINE_REQUIREMENTS: tuple[str, ...] = (
    "spandrel>=0.4.2,<0.5",
    "diffusers==0.42.1",
    "transformers>=5.6,<6",
    "safetensors>=0.4",
    "peft>=0.13",
    "accelerate>=1.0",
    "fastapi>=0.110",
    "fastapi-offline>=1.7",
    "uvicorn>=0.29",
    "python-multipart>=0.0.9",
    "pillow>=10",
    "numpy>=1.26",
    "scipy>=1.11",
    "torchsde>=0.2.6",
)


def default_constraints() -> Path | None:
    path = program_dir() / "constraints.txt"
    return path if path.is_file() else None
