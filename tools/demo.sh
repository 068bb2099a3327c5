#!/usr/bin/env bash
# make demo: the whole job on the embedded default data, on a CPU.
# 1. prepare Fashion scenes (real Fashion-MNIST items, COCO + mmseg layouts) if missing,
# 2. train the quickstart Mask R-CNN with a spiking Meta-SpikeFormer backbone and spiking FPN,
# 3. evaluate the final checkpoint with tools/test.py (COCO bbox/segm mAP) and draw predictions.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
CONFIG=configs/quickstart/mask-rcnn_metaspikeformer-tiny-t1_spikefpn_fashion-scenes.py
WORK_DIR=${WORK_DIR:-work_dirs/demo}
SHOW_DIR=vis

START=$(date +%s)
echo "[demo] 1/3 preparing data/fashion_scenes (cached after the first run)"
$PY tools/dataset_converters/fashion_mnist.py scenes --out-dir data/fashion_scenes

echo "[demo] 2/3 training $CONFIG (logs in $WORK_DIR)"
$PY tools/train.py "$CONFIG" --work-dir "$WORK_DIR"

CKPT=$(cat "$WORK_DIR/last_checkpoint")
echo "[demo] 3/3 evaluating $CKPT"
$PY tools/test.py "$CONFIG" "$CKPT" --work-dir "$WORK_DIR/test" --show-dir "$SHOW_DIR" \
    | tee "$WORK_DIR/test.log"

VIS=$(ls -d "$WORK_DIR"/test/*/"$SHOW_DIR" 2>/dev/null | tail -n 1)
echo
echo "[demo] done in $(( $(date +%s) - START ))s"
echo "[demo] metrics:      $(grep -E 'coco/bbox_mAP|coco/segm_mAP' "$WORK_DIR/test.log" | tail -n 1 | sed 's/.*- mmengine - INFO - //')"
echo "[demo] checkpoint:   $CKPT"
echo "[demo] training log: $(ls -d "$WORK_DIR"/2*/ | tail -n 1)"
echo "[demo] predictions:  ${VIS:-$WORK_DIR/test/<timestamp>/$SHOW_DIR} (PNG images with boxes and masks)"
