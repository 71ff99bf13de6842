#!/usr/bin/env bash
# Make .whl/: the packages that the lent GPU machine lacks (its Python 3.12 has torch, pytest, pandas,
# scipy, peft, typer, tabulate; not these), for bench/device_session.sh. Run here, in the repo root,
# from the dev venv (sam2, iopath and antlr4 ship only as sources: they are built here, against the
# venv's torch, with no CUDA extension; sam2's wheel is pure Python despite its cp311 tag, so the
# session unpacks every wheel instead of letting pip judge the tags).
set -euo pipefail
cd "$(dirname "$0")/.."
grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >>.git/info/exclude
rm -rf .whl && mkdir .whl
platforms=(--platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64)
for package in segment-anything==1.0 pycocotools==2.0.11 pysodmetrics==1.6.2 vos-benchmark==0.1.0 \
    hydra-core==1.3.8 omegaconf==2.3.1; do
    python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
        "${platforms[@]}" -d .whl "$package"
done
SAM2_BUILD_CUDA=0 pip wheel -q --no-deps --no-build-isolation -w .whl \
    iopath==0.1.10 antlr4-python3-runtime==4.9.3 sam2==1.1.0
ls -la .whl
