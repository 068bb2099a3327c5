"""Predict with any spikedet config (classification, detection or
segmentation) on an image or a folder of images.

Writes drawn predictions to OUT/vis/ and one JSON per image to OUT/preds/,
through the libraries' own Inferencers (mmpretrain
ImageClassificationInferencer, mmdet DetInferencer, mmseg MMSegInferencer).

Examples:
    python tools/infer.py CONFIG CHECKPOINT demo.png --out-dir outputs/
    python tools/infer.py CONFIG images/ --out-dir outputs/   # random weights
"""
import argparse


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Inference on an image or a folder of images',
        usage='%(prog)s CONFIG [CHECKPOINT] INPUT [options]')
    parser.add_argument(
        'config',
        help='config file (mmpretrain, mmdet or '
        'mmseg default_scope)')
    parser.add_argument(
        'paths',
        nargs='+',
        metavar='[CHECKPOINT] INPUT',
        help='checkpoint (optional: without it the model keeps its random '
        'initialisation) and an image file or folder')
    parser.add_argument(
        '--out-dir', default='outputs', help='output folder (vis/, preds/)')
    parser.add_argument(
        '--device',
        default=None,
        help='cpu, cuda, cuda:1, ... (default: '
        'cuda if available)')
    parser.add_argument(
        '--score-thr',
        type=float,
        default=0.3,
        help='detection: draw and write boxes above this score')
    parser.add_argument(
        '--batch-size', type=int, default=1, help='images per forward')
    args = parser.parse_args(argv)
    if len(args.paths) > 2:
        parser.error('expected CONFIG [CHECKPOINT] INPUT, got '
                     f'{len(args.paths) + 1} positional arguments')
    args.checkpoint = args.paths[0] if len(args.paths) == 2 else None
    args.input = args.paths[-1]
    if args.batch_size < 1:
        parser.error('--batch-size must be >= 1')
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    # Imported after parsing, so that --help answers at once.
    from spikedet.apis import run_inference
    records = run_inference(
        args.config,
        args.input,
        args.out_dir,
        checkpoint=args.checkpoint,
        device=args.device,
        score_thr=args.score_thr,
        batch_size=args.batch_size)
    print(f'{len(records)} image(s): drawn predictions in '
          f'{args.out_dir}/vis, JSON in {args.out_dir}/preds')


if __name__ == '__main__':
    main()
