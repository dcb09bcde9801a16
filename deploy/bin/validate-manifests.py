#!/usr/bin/env python3
"""Validate Kubernetes manifests (e.g. `helm template` output) against the Kubernetes
OpenAPI schemas shipped offline in the kubernetes-validate package, in strict mode (an
unknown or misspelt field is an error).

    helm template townhall deploy/helm/townhall | deploy/bin/validate-manifests.py -
    deploy/bin/validate-manifests.py rendered.yaml --kubernetes-version 1.27.0

Each manifest is checked at every version given (default: the chart's oldest supported
Kubernetes, 1.27, and the newest the package knows). Exit status 1 with one line per
invalid manifest, 2 when nothing was given to check.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from typing import Any

import kubernetes_validate
import yaml

OLDEST_SUPPORTED = "1.27.0"  # Chart.yaml kubeVersion


def manifests(text: str) -> list[dict[str, Any]]:
    """The non-empty documents of a multi-document YAML stream."""
    return [doc for doc in yaml.safe_load_all(text) if doc]


def problems(docs: Iterable[dict[str, Any]], versions: Iterable[str]) -> list[str]:
    """One line per manifest that does not validate at one of the versions."""
    out = []
    for doc in docs:
        name = f"{doc.get('kind')}/{(doc.get('metadata') or {}).get('name')}"
        for version in versions:
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as error:
                where = "/".join(str(p) for p in error.absolute_path)
                out.append(f"{name} (Kubernetes {version}): {where}: {error.message}")
            except kubernetes_validate.SchemaNotFoundError as error:
                out.append(f"{name} (Kubernetes {version}): {error.message}")
    return out


def default_versions() -> list[str]:
    return [OLDEST_SUPPORTED, kubernetes_validate.latest_version()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("files", nargs="+", help="YAML files of manifests; - for standard input")
    parser.add_argument(
        "--kubernetes-version",
        action="append",
        dest="versions",
        help=f"check at this version (repeatable; default {OLDEST_SUPPORTED} and the newest known)",
    )
    args = parser.parse_args(argv)
    docs: list[dict[str, Any]] = []
    for path in args.files:
        if path == "-":
            docs += manifests(sys.stdin.read())
        else:
            with open(path, encoding="utf-8") as handle:
                docs += manifests(handle.read())
    if not docs:
        print("validate-manifests: no manifests to check", file=sys.stderr)
        return 2
    versions = args.versions or default_versions()
    found = problems(docs, versions)
    for line in found:
        print(line, file=sys.stderr)
    print(
        f"validate-manifests: {len(docs)} manifests, Kubernetes {', '.join(versions)} "
        f"(strict): {'FAILED' if found else 'valid'}"
    )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
