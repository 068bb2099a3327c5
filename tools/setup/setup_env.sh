#!/usr/bin/env bash
# Create .venv/ at the repository root with the pinned stack and spikedet installed (make setup).
# Re-running it on a ready environment takes seconds: a stamp records what it was built from.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
STAMP="$VENV/.spikedet-stack"
WANT=$(cat requirements/*.txt tools/setup/setup_env.sh \
       tools/setup/build_mmcv.sh setup.py | sha256sum | cut -d' ' -f1)

if [ -x "$PY" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ]; then
  echo "[setup] .venv is up to date (delete .venv/ to rebuild)"
  exit 0
fi

START=$(date +%s)
if [ ! -x "$PY" ]; then
  echo "[setup] creating .venv with $(python3 --version)"
  python3 -m venv "$VENV"
fi
PIP="$PY -m pip --disable-pip-version-check"
STACK=requirements/stack.txt

# 1. setuptools first (mmcv's build imports pkg_resources), then torch, which mmcv builds against.
$PIP install -q "$(grep '^setuptools' $STACK)" wheel
$PIP install -q "$(grep '^torch==' $STACK)" "$(grep '^torchvision==' $STACK)" \
    "$(grep '^numpy' $STACK)" "$(grep '^mmengine==' $STACK)"

# 2. mmcv with compiled ops (cached wheel outside the repo; built once per machine).
bash tools/setup/build_mmcv.sh "$PY"

# 3. The rest of the stack (with timm, the optional distillation teacher), test and lint tools,
#    and spikedet itself (editable: spikedet/.mim/configs becomes a symlink to configs/).
$PIP install -q -r $STACK -r requirements/tests.txt -r requirements/lint.txt
$PIP install -q --no-deps --no-build-isolation -e .

# 4. The embedded default data (Fashion-MNIST, Debian package). Not fatal: the converters accept --source.
if [ ! -d /usr/share/datasets/fashion-mnist ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "[setup] installing Debian's dataset-fashion-mnist"
    (apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1 || \
      (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1)) || \
      echo "[setup] WARNING: could not install dataset-fashion-mnist. Install it with" \
           "'sudo apt-get install dataset-fashion-mnist', or pass '--source DIR' (the four Fashion-MNIST" \
           "*-ubyte.gz files) to tools/dataset_converters/fashion_mnist.py." >&2
  else
    echo "[setup] NOTE: Fashion-MNIST is not installed. Run 'sudo apt-get install dataset-fashion-mnist'," \
         "or pass '--source DIR' to tools/dataset_converters/fashion_mnist.py." >&2
  fi
fi

"$PY" -c "import spikedet, spikedet.models, mmcv.ops, mmdet, mmseg, mmpretrain, spikingjelly, timm; print('[setup] imports ok')"
echo "$WANT" > "$STAMP"
echo "[setup] done in $(( $(date +%s) - START ))s: activate with 'source .venv/bin/activate'"
