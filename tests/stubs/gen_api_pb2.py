#!/usr/bin/env python3
"""Writes typing stubs for aioesphomeapi's generated protobuf modules.

aioesphomeapi ships ``py.typed``, but its ``api_pb2`` and ``api_options_pb2``
are protoc output that builds its classes at import time: to mypy they have no
messages, enums or extensions. This makes the missing stubs from the modules'
own descriptors (so they always match the installed aioesphomeapi) with
mypy-protobuf, the protoc plugin for mypy stubs, fed a ``CodeGeneratorRequest``
directly instead of through protoc.

They are installed as the partial stub package ``aioesphomeapi-stubs`` (PEP
561: ``py.typed`` says ``partial``) into the site-packages of the Python that
runs this, which must be the venv mypy runs in: mypy takes ``api_pb2`` and
``api_options_pb2`` from the stubs and everything else from aioesphomeapi.

    python tests/stubs/gen_api_pb2.py    # scripts/lint-python runs it

Nothing is written into the repository.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

from aioesphomeapi import api_options_pb2, api_pb2
from google.protobuf import descriptor_pb2
from google.protobuf.compiler import plugin_pb2

PACKAGE = "aioesphomeapi"
STUBS = f"{PACKAGE}-stubs"


def code_generator_request() -> plugin_pb2.CodeGeneratorRequest:
    """api.proto and api_options.proto (with what they import, dependencies
    first), asking for stubs of the two."""
    request = plugin_pb2.CodeGeneratorRequest()
    for module in (descriptor_pb2, api_options_pb2, api_pb2):
        module.DESCRIPTOR.CopyToProto(request.proto_file.add())
    request.file_to_generate.extend([api_options_pb2.DESCRIPTOR.name, api_pb2.DESCRIPTOR.name])
    return request


def generate() -> dict[str, str]:
    """Stub file name (``api_pb2.pyi``) -> contents."""
    done = subprocess.run(
        [sys.executable, "-m", "mypy_protobuf.main"],
        input=code_generator_request().SerializeToString(),
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"mypy-protobuf failed: {done.stderr.decode(errors='replace')}")
    response = plugin_pb2.CodeGeneratorResponse.FromString(done.stdout)
    if response.error:
        raise RuntimeError(f"mypy-protobuf: {response.error}")
    return {file.name: file.content for file in response.file}


def install(files: dict[str, str]) -> Path:
    """Replaces ``<site-packages>/aioesphomeapi-stubs`` with `files`."""
    site = Path(sysconfig.get_paths()["purelib"])
    target = site / STUBS
    with tempfile.TemporaryDirectory(dir=site, prefix=f".{STUBS}.") as tmp:
        staged = Path(tmp) / STUBS
        staged.mkdir()
        (staged / "py.typed").write_text("partial\n")
        for name, content in files.items():
            (staged / name).write_text(content)
        shutil.rmtree(target, ignore_errors=True)
        staged.rename(target)
    return target


def main() -> int:
    try:
        files = generate()
    except (OSError, RuntimeError) as err:
        print(f"error: cannot make the api_pb2 stubs: {err}", file=sys.stderr)
        return 1
    target = install(files)
    print(f"wrote {', '.join(sorted(files))} to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
