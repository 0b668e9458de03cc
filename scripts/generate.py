"""Regenerate ``generated/porter_sandbox_api`` from ``openapi.yaml``.

The generator and the formatter are pinned to exact versions so that the
output is byte-identical on every machine; ``--check`` regenerates into a
temporary folder and fails on any difference with the committed tree.

    python scripts/generate.py          # rewrite generated/porter_sandbox_api
    python scripts/generate.py --check  # fail if it is not what openapi.yaml makes
"""

from __future__ import annotations

import argparse
import difflib
import filecmp
import importlib.metadata
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# 0.28.x is the last line whose output keeps python-dateutil and runs on
# Python 3.10, which the SDK supports; 0.29 drops both.
GENERATOR_VERSION = "0.28.4"
# The formatter is part of the output: another ruff may lay out the code differently.
RUFF_VERSION = "0.17.6"

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "openapi.yaml"
CONFIG = ROOT / "scripts" / "openapi-python-client.yaml"
# The generator's own templates, but for the few in here (each says what it changes and why).
TEMPLATES = ROOT / "scripts" / "templates"
PACKAGE = "porter_sandbox_api"
TARGET = ROOT / "generated" / PACKAGE
# Ruff settings given on the command line (not read from pyproject.toml), so
# that a change to the project's lint settings cannot change generated code.
RUFF_SETTINGS = ["--isolated", "--line-length", "120", "--target-version", "py310"]


def require_version(distribution: str, wanted: str) -> None:
    try:
        found = importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        found = "not installed"
    if found != wanted:
        sys.exit(
            f"generate.py needs {distribution}=={wanted}, found {found}. "
            f"Install the pinned tools with: pip install -e '.[dev]' (or run `make generate`)."
        )


def run(*args: str) -> None:
    result = subprocess.run(args, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{result.stdout}{result.stderr}")


def generate(into: Path) -> Path:
    """Write the generated package into the folder ``into``; answer its path."""
    out = into / PACKAGE
    run(
        sys.executable,
        "-m",
        "openapi_python_client",
        "generate",
        "--path",
        str(SPEC),
        "--config",
        str(CONFIG),
        "--custom-template-path",
        str(TEMPLATES),
        "--meta",
        "none",
        "--output-path",
        str(out),
        "--overwrite",
        "--fail-on-warning",
    )
    run(sys.executable, "-m", "ruff", "check", *RUFF_SETTINGS, "--select", "F401,I", "--fix", "--quiet", str(out))
    run(sys.executable, "-m", "ruff", "format", *RUFF_SETTINGS, "--quiet", str(out))
    # The SDK and the server type-check against these models (PEP 561).
    (out / "py.typed").write_text("")
    return out


def differences(expected: Path, actual: Path) -> list[str]:
    """Describe how the tree ``actual`` differs from ``expected``."""
    found: list[str] = []

    def walk(cmp: filecmp.dircmp[str], rel: Path) -> None:
        for name in cmp.left_only:
            found.append(f"missing from generated/: {rel / name}")
        for name in cmp.right_only:
            found.append(f"not made by the generator: {rel / name}")
        for name in cmp.diff_files:
            new = (Path(cmp.left) / name).read_text().splitlines(keepends=True)
            old = (Path(cmp.right) / name).read_text().splitlines(keepends=True)
            found.append(
                "".join(difflib.unified_diff(old, new, f"committed/{rel / name}", f"regenerated/{rel / name}"))
            )
        for sub, subcmp in cmp.subdirs.items():
            walk(subcmp, rel / sub)

    walk(filecmp.dircmp(str(expected), str(actual), ignore=["__pycache__"]), Path(PACKAGE))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="fail if generated/ is not what openapi.yaml makes")
    options = parser.parse_args()
    require_version("openapi-python-client", GENERATOR_VERSION)
    require_version("ruff", RUFF_VERSION)
    with tempfile.TemporaryDirectory() as tmp:
        fresh = generate(Path(tmp))
        if options.check:
            if not TARGET.is_dir():
                sys.exit(f"{TARGET.relative_to(ROOT)} is missing: run `make generate`.")
            problems = differences(fresh, TARGET)
            if problems:
                print("\n".join(problems))
                sys.exit("generated/ is not what openapi.yaml makes: run `make generate` and commit the result.")
            print("generated/ matches openapi.yaml")
            return
        shutil.rmtree(TARGET, ignore_errors=True)
        TARGET.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(fresh, TARGET, ignore=shutil.ignore_patterns("__pycache__"))
        print(f"wrote {TARGET.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
