"""One inference entry for the three tasks, on the libraries' Inferencers.

The config's ``default_scope`` picks the Inferencer: mmpretrain's
``ImageClassificationInferencer``, mmdet's ``DetInferencer`` or mmseg's
``MMSegInferencer``. Each image gets a drawn prediction in ``OUT/vis/`` and
a JSON record in ``OUT/preds/<image stem>.json`` (segmentation also writes
the label map, class ids, as ``OUT/preds/<image stem>.png``).

Without a checkpoint the model keeps its random initialisation (a warning
says so); class names and palette then come from the config's test dataset
rather than the libraries' COCO/Cityscapes defaults.
"""
import json
import os
import os.path as osp
import warnings
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.config import Config

#: Tasks by ``default_scope``.
TASKS = {
    'mmpretrain': 'classification',
    'mmdet': 'detection',
    'mmseg': 'segmentation'
}
#: File endings read as images from a folder.
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')


def list_images(inputs: str) -> List[str]:
    """An image file, or the image files of a folder (not recursive,
    sorted).

    Raises:
        FileNotFoundError: ``inputs`` does not exist or a folder holds no
            image.
    """
    if osp.isfile(inputs):
        return [inputs]
    if not osp.isdir(inputs):
        raise FileNotFoundError(
            f"Input '{inputs}' is neither an image file nor a folder.")
    files = sorted(
        osp.join(inputs, name) for name in os.listdir(inputs)
        if name.lower().endswith(IMAGE_EXTENSIONS)
        and osp.isfile(osp.join(inputs, name)))
    if not files:
        kinds = ', '.join(IMAGE_EXTENSIONS)
        raise FileNotFoundError(
            f"The folder '{inputs}' holds no image ({kinds}).")
    return files


def config_metainfo(cfg: Config) -> Dict[str, Any]:
    """Class names (and palette) of the config's test dataset, read without
    loading its annotations; empty if the dataset does not say."""
    from mmengine.registry import DATASETS
    loader = cfg.get('test_dataloader') or cfg.get('val_dataloader') or {}
    ds_cfg = loader.get('dataset')
    while isinstance(ds_cfg, dict) and 'dataset' in ds_cfg:
        ds_cfg = ds_cfg['dataset']  # RepeatDataset & co.
    if not isinstance(ds_cfg, dict):
        return {}
    ds_cfg = ds_cfg.copy()
    ds_cfg['lazy_init'] = True
    try:
        metainfo = DATASETS.build(ds_cfg).metainfo
    except Exception as e:  # a dataset class without lazy_init, ...
        warnings.warn(f'Could not read class names from the config\'s test '
                      f'dataset ({type(e).__name__}: {e}).')
        return {}
    return {k: v for k, v in metainfo.items() if k in ('classes', 'palette')}


def _load_color_type(cfg: Config) -> str:
    """``color_type`` of the test pipeline's ``LoadImageFromFile``."""
    loader = cfg.get('test_dataloader') or cfg.get('val_dataloader') or {}
    ds_cfg = loader.get('dataset') or {}
    while isinstance(ds_cfg, dict) and 'dataset' in ds_cfg:
        ds_cfg = ds_cfg['dataset']
    for t in ds_cfg.get('pipeline', []):
        if str(t.get('type', '')).endswith('LoadImageFromFile'):
            return t.get('color_type', 'color')
    return 'color'


def _to_gray(results: dict) -> dict:
    """Pipeline step: a BGR image becomes grayscale (H, W), as
    ``LoadImageFromFile(color_type='grayscale')`` loads it."""
    import mmcv
    img = results['img']
    if img.ndim == 3 and img.shape[2] == 3:
        results['img'] = mmcv.bgr2gray(img)
    return results


def _has_dataset_meta(checkpoint: Optional[str]) -> bool:
    if not checkpoint:
        return False
    from mmengine.runner.checkpoint import _load_checkpoint
    meta = _load_checkpoint(checkpoint, map_location='cpu').get('meta', {})
    return bool(meta.get('dataset_meta'))


def build_inferencer(cfg: Config,
                     checkpoint: Optional[str] = None,
                     device: Optional[str] = None) -> Tuple[str, Any]:
    """Build the Inferencer of the config's library.

    Args:
        cfg (Config): An mmpretrain, mmdet or mmseg config.
        checkpoint (str, optional): Weights; None keeps the random
            initialisation. Defaults to None.
        device (str, optional): ``'cpu'``, ``'cuda'``, ...; None picks CUDA
            if available. Defaults to None.

    Returns:
        tuple[str, Inferencer]: The task name and the Inferencer.
    """
    import spikedet.utils.checkpoint  # noqa: F401  (clear load errors)
    scope = cfg.get('default_scope')
    if scope not in TASKS:
        raise ValueError(
            f'The config sets default_scope={scope!r}; inference runs '
            f'configs of {sorted(TASKS)}.')
    if checkpoint is not None:
        from spikedet.utils.checkpoint import check_checkpoint_file
        check_checkpoint_file(checkpoint)
    else:
        warnings.warn('No checkpoint: the model keeps its random '
                      'initialisation, so its predictions are meaningless.')
    from mmengine.registry import init_default_scope
    init_default_scope(scope)
    meta = {} if _has_dataset_meta(checkpoint) else config_metainfo(cfg)
    with warnings.catch_warnings():
        # The libraries warn that they fall back to COCO/Cityscapes
        # classes; the config's classes replace those below.
        if meta:
            warnings.filterwarnings(
                'ignore', message='.*(COCO|cityscapes) '
                'classes.*')
            warnings.filterwarnings('ignore', message='.*dataset_meta.*')
        if scope == 'mmpretrain':
            from mmpretrain.apis import ImageClassificationInferencer
            inferencer = ImageClassificationInferencer(
                model=cfg,
                pretrained=checkpoint or False,
                device=device,
                classes=meta.get('classes'))
            if _load_color_type(cfg) == 'grayscale':
                # mmpretrain's Inferencer loads colour images whatever the
                # config's LoadImageFromFile says (mmdet/mmseg keep it).
                from mmengine.dataset import Compose
                inferencer.pipeline = Compose(
                    [_to_gray, *inferencer.pipeline.transforms])
        elif scope == 'mmdet':
            from mmdet.apis import DetInferencer
            inferencer = DetInferencer(
                model=cfg,
                weights=checkpoint,
                device=device,
                scope='mmdet',
                show_progress=False)
            if meta:
                dataset_meta = dict(inferencer.model.dataset_meta)
                dataset_meta.update(meta)
                inferencer.model.dataset_meta = dataset_meta
                inferencer.visualizer.dataset_meta = dataset_meta
        else:
            from mmseg.apis import MMSegInferencer
            inferencer = MMSegInferencer(
                model=cfg,
                weights=checkpoint,
                device=device,
                scope='mmseg',
                classes=meta.get('classes'),
                palette=meta.get('palette'))
            if meta.get('classes'):
                inferencer.model.dataset_meta = dict(
                    classes=meta['classes'], palette=meta.get('palette'))
    return TASKS[scope], inferencer


def _classification_records(results: Sequence[dict],
                            classes: Optional[Sequence[str]],
                            topk: int = 5) -> List[dict]:
    records = []
    for res in results:
        scores = np.asarray(res['pred_scores'], dtype=np.float64)
        order = np.argsort(-scores)[:topk]
        record = dict(
            pred_label=int(res['pred_label']),
            pred_score=float(res['pred_score']),
            topk_labels=[int(i) for i in order],
            topk_scores=[float(scores[i]) for i in order])
        if classes:
            record['pred_class'] = classes[record['pred_label']]
            record['topk_classes'] = [classes[i] for i in order]
        records.append(record)
    return records


def _detection_records(results: Sequence[dict],
                       classes: Optional[Sequence[str]],
                       score_thr: float) -> List[dict]:
    records = []
    for res in results:
        keep = [
            i for i, s in enumerate(res.get('scores', [])) if s >= score_thr
        ]
        record = dict(score_thr=score_thr)
        for key in ('labels', 'scores', 'bboxes', 'masks'):
            if key in res:
                record[key] = [res[key][i] for i in keep]
        if classes and 'labels' in record:
            record['classes'] = [classes[i] for i in record['labels']]
        records.append(record)
    return records


def _segmentation_records(results: Sequence[np.ndarray],
                          classes: Optional[Sequence[str]]) -> List[dict]:
    records = []
    for seg in results:
        seg = np.asarray(seg)
        ids, counts = np.unique(seg, return_counts=True)
        pixels = {}
        for i, c in zip(ids.tolist(), counts.tolist()):
            name = classes[i] if classes and i < len(classes) else str(i)
            pixels[name] = int(c)
        records.append(dict(shape=list(seg.shape), pixels_per_class=pixels))
    return records


def run_inference(config: str,
                  inputs: str,
                  out_dir: str,
                  checkpoint: Optional[str] = None,
                  device: Optional[str] = None,
                  score_thr: float = 0.3,
                  batch_size: int = 1,
                  cfg_options: Optional[dict] = None) -> List[dict]:
    """Predict on an image or a folder of images; write drawn predictions
    and JSON records under ``out_dir``.

    Args:
        config (str): Config file of mmpretrain, mmdet or mmseg.
        inputs (str): An image file or a folder of images.
        out_dir (str): Output folder: ``vis/`` (drawn predictions) and
            ``preds/`` (one JSON per image; label-map PNGs for
            segmentation).
        checkpoint (str, optional): Weights; None keeps the random
            initialisation. Defaults to None.
        device (str, optional): Device; None picks CUDA if available.
            Defaults to None.
        score_thr (float): Detection: boxes below it are neither drawn nor
            written. Defaults to 0.3.
        batch_size (int): Images per forward. Defaults to 1.
        cfg_options (dict, optional): Overrides merged into the config.
            Defaults to None.

    Returns:
        list[dict]: The JSON records written, one per image; ``vis`` is
        the drawn image relative to ``out_dir``.
    """
    files = list_images(inputs)
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    task, inferencer = build_inferencer(cfg, checkpoint, device)
    vis_dir = osp.join(out_dir, 'vis')
    pred_dir = osp.join(out_dir, 'preds')
    os.makedirs(vis_dir, exist_ok=True)
    os.makedirs(pred_dir, exist_ok=True)

    if task == 'classification':
        results = inferencer(files, batch_size=batch_size, show_dir=vis_dir)
        records = _classification_records(results, inferencer.classes)
    elif task == 'detection':
        out = inferencer(
            files,
            batch_size=batch_size,
            out_dir=out_dir,
            pred_score_thr=score_thr,
            no_save_vis=False,
            no_save_pred=True)
        records = _detection_records(
            out['predictions'], inferencer.model.dataset_meta.get('classes'),
            score_thr)
    else:
        first = inferencer.num_pred_imgs
        out = inferencer(
            files,
            batch_size=batch_size,
            out_dir=out_dir,
            img_out_dir='vis',
            pred_out_dir='preds')
        preds = out['predictions']
        if isinstance(preds, np.ndarray) and len(files) == 1:
            preds = [preds]
        records = _segmentation_records(
            preds, inferencer.model.dataset_meta.get('classes'))
        for k, (path, record) in enumerate(zip(files, records)):
            # mmseg numbers its label maps; name them after the images.
            name = osp.splitext(osp.basename(path))[0] + '.png'
            os.replace(
                osp.join(pred_dir, f'{first + k:08d}_pred.png'),
                osp.join(pred_dir, name))
            record['label_map'] = osp.join('preds', name)

    for i, (path, record) in enumerate(zip(files, records)):
        stem = osp.splitext(osp.basename(path))[0]
        # mmpretrain draws <stem>.png, mmdet and mmseg keep the file name.
        drawn = f'{stem}.png' if task == 'classification' else \
            osp.basename(path)
        records[i] = record = dict(
            image=path,
            task=task,
            config=config,
            checkpoint=checkpoint,
            vis=osp.join('vis', drawn),
            **record)
        with open(osp.join(pred_dir, f'{stem}.json'), 'w') as f:
            json.dump(record, f, indent=1)
    return records
