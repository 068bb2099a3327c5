#!/usr/bin/env bash
# Build (once per machine) and install mmcv with its compiled ops into the given Python environment.
#
# Usage: tools/setup/build_mmcv.sh PYTHON
#
# The built wheel is cached outside the repository, under
#   ${SPIKEDET_CACHE:-$HOME/.cache/spikedet}/wheels/mmcv-<ver>-py<ver>-torch<ver>-<cpu|cuXYZ>/
# so fresh clones (CI) reuse it in seconds. A wheel built against one torch version breaks against
# another (C++ ABI), hence the torch version in the key.
set -euo pipefail

PY=${1:?usage: build_mmcv.sh PYTHON}
HERE=$(cd "$(dirname "$0")" && pwd)
STACK="$HERE/../../requirements/stack.txt"
MMCV_VERSION=$(sed -n 's/^mmcv==\([0-9.]*\).*/\1/p' "$STACK")
[ -n "$MMCV_VERSION" ] || { echo "build_mmcv: no 'mmcv==' pin in $STACK" >&2; exit 1; }

read -r TORCH_VERSION PY_TAG CUDA_OK < <("$PY" - <<'PYEOF'
import shutil, sys, torch
cuda = torch.cuda.is_available() and shutil.which('nvcc') is not None and torch.version.cuda
print(torch.__version__.split('+')[0], f'{sys.version_info[0]}{sys.version_info[1]}',
      ('cu' + torch.version.cuda.replace('.', '')) if cuda else 'cpu')
PYEOF
)
KEY="mmcv-${MMCV_VERSION}-py${PY_TAG}-torch${TORCH_VERSION}-${CUDA_OK}"
CACHE_DIR="${SPIKEDET_CACHE:-$HOME/.cache/spikedet}/wheels/$KEY"

have_ops() { "$PY" -c "import mmcv, mmcv.ops; from mmcv.ops import RoIAlign, nms; assert mmcv.__version__ == '$MMCV_VERSION'" >/dev/null 2>&1; }

if have_ops; then
  echo "[mmcv] $MMCV_VERSION with ops already installed"
  exit 0
fi

WHEEL=$(ls "$CACHE_DIR"/mmcv-*.whl 2>/dev/null | head -n 1 || true)
if [ -z "$WHEEL" ]; then
  echo "[mmcv] no cached wheel for $KEY: building from source (about 12 minutes on 2 cores)"
  WORK=$(mktemp -d)
  trap 'rm -rf "$WORK"' EXIT
  "$PY" -m pip download --no-deps --no-binary :all: --no-build-isolation -d "$WORK" "mmcv==$MMCV_VERSION"
  tar -xzf "$WORK"/mmcv-"$MMCV_VERSION".tar.gz -C "$WORK"
  SRC="$WORK/mmcv-$MMCV_VERSION"
  # torch >= 2.14 headers need C++20; mmcv 2.1.0's setup.py hard-codes -std=c++17.
  # Patch the unpacked copy only, never an installed package.
  sed -i "s/'-std=c++17'/'-std=c++20'/g" "$SRC/setup.py"
  if [ "$CUDA_OK" = cpu ]; then FORCE_CUDA=0; else FORCE_CUDA=1; fi
  (cd "$SRC" && MMCV_WITH_OPS=1 FORCE_CUDA=$FORCE_CUDA MAX_JOBS=${MAX_JOBS:-$(nproc)} \
      "$PY" -m pip wheel --no-deps --no-build-isolation -w "$WORK/dist" .)
  mkdir -p "$CACHE_DIR"
  cp "$WORK"/dist/mmcv-*.whl "$CACHE_DIR/"
  WHEEL=$(ls "$CACHE_DIR"/mmcv-*.whl | head -n 1)
  echo "[mmcv] cached $WHEEL"
else
  echo "[mmcv] reusing cached wheel $WHEEL"
fi

"$PY" -m pip install --force-reinstall --no-deps "$WHEEL"
if ! have_ops; then
  echo "[mmcv] installed $WHEEL but 'mmcv.ops' does not import: the ops were not compiled." >&2
  echo "       Delete $CACHE_DIR and run 'make setup' again." >&2
  exit 1
fi
echo "[mmcv] $MMCV_VERSION with compiled ops is ready"
