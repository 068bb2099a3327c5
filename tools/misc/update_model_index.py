"""Write model-index.yml and, per config folder, metafile.yml (OpenMMLab
format: Collections/Models/Config/Metadata/Results/Weights) and README.md
from the configs in the tree.

Run it after adding, renaming or removing a config; a test
(tests/test_packaging/test_model_index.py) fails while the index and the
configs disagree. A new folder needs an entry in ``FOLDERS``; figures go in
``PAPER`` (the papers', labelled so) or ``OURS`` (measured here).

Usage:
    python tools/misc/update_model_index.py
"""
import argparse
import glob
import os
import os.path as osp
import re
import sys

ROOT = os.environ.get(
    'SPIKEDET_ROOT',
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
SDT = dict(
    URL='https://arxiv.org/abs/2404.03663',
    Title='Spike-driven Transformer V2: Meta Spiking Neural Network '
    'Architecture Inspiring the Design of Next-generation Neuromorphic '
    'Chips')
SPIKFORMER = dict(
    URL='https://arxiv.org/abs/2209.15425',
    Title='Spikformer: When Spiking Neural Network Meets '
    'Transformer')

DATA = [  # filename token -> training data (first match wins)
    ('voc12aug', 'PASCAL VOC 2012 + SBD (aug)'),
    ('voc12', 'PASCAL VOC 2012'),
    ('ade20k', 'ADE20K'),
    ('coco', 'COCO'),
    ('in1k', 'ImageNet-1k'),
    ('cifar10dvs', 'CIFAR10-DVS'),
    ('cifar10', 'CIFAR-10'),
    ('dvs128gesture', 'DVS128 Gesture'),
    ('fashion-event-scenes', 'Fashion event scenes (generated)'),
    ('fashion-events', 'Fashion-MNIST events (generated)'),
    ('fashion-scenes', 'Fashion scenes (generated from Fashion-MNIST)'),
    ('fashion-mnist', 'Fashion-MNIST'),
]

FOLDERS = {
    'mask-rcnn':
    dict(
        name='Mask R-CNN with spiking backbones',
        tasks=['Object Detection', 'Instance Segmentation'],
        arch=['Meta-SpikeFormer', 'Spikformer', 'Spiking FPN', 'Mask R-CNN'],
        paper=SDT,
        about='COCO instance segmentation with Mask R-CNN on a spiking '
        'backbone: Meta-SpikeFormer 15M/55M at T=1 or T=4 with a spiking FPN '
        '(and spiking RPN/RoI heads in the `spikeheads` variants), the '
        "paper's detection recipes (`_paper_`), a temporal-aggregation + "
        'mmdet FPN variant, and swap-in recipes that replace the ResNet of '
        "mmdet's own Mask R-CNN config (`r50-swap`)."),
    'retinanet':
    dict(
        name='RetinaNet with spiking backbones',
        tasks=['Object Detection'],
        arch=['Meta-SpikeFormer', 'Spiking FPN', 'RetinaNet'],
        paper=SDT,
        about='COCO detection with RetinaNet on a Meta-SpikeFormer-15M '
        "backbone and a spiking FPN, and the paper's RetinaNet recipe."),
    'cascade-rcnn':
    dict(
        name='Cascade Mask R-CNN with spiking backbones',
        tasks=['Object Detection', 'Instance Segmentation'],
        arch=['Meta-SpikeFormer', 'Cascade Mask R-CNN'],
        paper=SDT,
        about="The paper's Cascade Mask R-CNN recipe on COCO with "
        'Meta-SpikeFormer-15M.'),
    'sem-fpn':
    dict(
        name='Semantic FPN with spiking backbones',
        tasks=['Semantic Segmentation'],
        arch=['Meta-SpikeFormer', 'Spiking FPN', 'Semantic FPN'],
        paper=SDT,
        about='Semantic segmentation with a spiking FPN neck and spiking '
        'Semantic-FPN head on Meta-SpikeFormer 15M/55M (ADE20K), the '
        "paper's recipes on ADE20K and PASCAL VOC 2012 (`_paper_`), and a "
        "swap-in of mmseg's Semantic FPN config (`r50-swap`)."),
    'upernet':
    dict(
        name='UperNet with spiking backbones',
        tasks=['Semantic Segmentation'],
        arch=['Meta-SpikeFormer', 'Temporal Aggregation', 'UperNet'],
        paper=SDT,
        about="ADE20K segmentation with mmseg's UperNet head on a "
        'Meta-SpikeFormer backbone (time-averaged by a TemporalAggregation '
        'neck).'),
    'metaspikeformer':
    dict(
        name='Meta-SpikeFormer',
        tasks=['Image Classification'],
        arch=[
            'Meta-SpikeFormer', 'LIF neurons', 'Spiking classification '
            'head'
        ],
        paper=SDT,
        about='ImageNet-1k classification with Meta-SpikeFormer 15M/31M/55M: '
        'T=1 pre-training, T=4 fine-tuning from the T=1 checkpoint, and the '
        '55M T=4 hard distillation from a CAFormer-B36 teacher (timm).'),
    'spikformer':
    dict(
        name='Spikformer',
        tasks=['Image Classification'],
        arch=['Spikformer', 'Spiking self-attention', 'LIF neurons'],
        paper=SPIKFORMER,
        about='ImageNet-1k classification with Spikformer 8-384/8-512/8-768 '
        'and CIFAR-10 with Spikformer 4-384, T=4.'),
    'event':
    dict(
        name='Event-camera classification',
        tasks=['Image Classification'],
        arch=['Meta-SpikeFormer', 'Spikformer', 'Event frames'],
        paper=SPIKFORMER,
        about='Neuromorphic (DVS) classification on spikingjelly-processed '
        'folders: Spikformer-2-256 T=16 on CIFAR10-DVS and DVS128 Gesture '
        '(the recipes of the official cifar10dvs/ code) and a '
        'Meta-SpikeFormer-15M event config.'),
    'quickstart':
    dict(
        name='Quickstart (CPU)',
        tasks=None,
        arch=['Meta-SpikeFormer (tiny)'],
        paper=SDT,
        about='Tiny models that train on a CPU in minutes on the embedded '
        'data (Fashion-MNIST, Fashion scenes and their event versions): '
        'classification, Mask R-CNN and Semantic FPN.'),
}

# Paper figures (as quoted, with sources, in the main README).
PAPER = {
    'metaspikeformer-55m-t4_8xb24_in1k-224-distill':
    ('Image Classification', 'ImageNet-1k', {
        'Top 1 Accuracy': 80.0
    }, "paper's abstract (Yao et al., ICLR 2024)"),
    'metaspikeformer-31m-t1_8xb128_in1k-224':
    ('Image Classification', 'ImageNet-1k', {
        'Top 1 Accuracy': 75.4
    }, 'paper, as quoted in the Max-Former ImageNet table (see the main '
     'README)'),
    'metaspikeformer-31m-t4_8xb24_in1k-224-ft':
    ('Image Classification', 'ImageNet-1k', {
        'Top 1 Accuracy': 77.2
    }, 'paper, as quoted in the Max-Former ImageNet table (see the main '
     'README)'),
    'spikformer-8-384-t4_8xb24_in1k-224':
    ('Image Classification', 'ImageNet-1k', {
        'Top 1 Accuracy': 70.24
    }, 'paper (Zhou et al., ICLR 2023; see the main README)'),
    'spikformer-8-512-t4_8xb24_in1k-224':
    ('Image Classification', 'ImageNet-1k', {
        'Top 1 Accuracy': 73.38
    }, 'paper (Zhou et al., ICLR 2023; see the main README)'),
    'spikformer-8-768-t4_8xb24_in1k-224':
    ('Image Classification', 'ImageNet-1k', {
        'Top 1 Accuracy': 74.81
    }, 'paper (Zhou et al., ICLR 2023; see the main README)'),
}
# Our measured quickstart figures (main README, 2-core CPU, no GPU).
OURS = {
    'mask-rcnn_metaspikeformer-tiny-t1_spikefpn_fashion-scenes': [
        ('Object Detection', 'Fashion scenes (val)', {
            'box AP': 21.7
        }),
        ('Instance Segmentation', 'Fashion scenes (val)', {
            'mask AP': 19.7
        }),
    ],
    'fpn_metaspikeformer-tiny-t1_fashion-scenes': [
        ('Semantic Segmentation', 'Fashion scenes (val)', {
            'mIoU': 28.12
        }),
    ],
    'metaspikeformer-tiny-t1_fashion-mnist': [
        ('Image Classification', 'Fashion-MNIST (test)', {
            'Top 1 Accuracy': 79.28
        }),
    ],
}
OURS_SOURCE = ('measured here: make demo / tools/train.py on a 2-core CPU, '
               'no GPU (main README, quickstart table)')


def is_config(path):
    """An experiment config: not empty, not a deprecated-name alias."""
    from spikedet.testing.common import is_config_alias
    return os.path.getsize(path) > 0 and not is_config_alias(path)


def description(path):
    lines = []
    with open(path) as f:
        for line in f:
            if not line.startswith('#'):
                break
            text = line[1:].strip()
            if not text:
                break
            lines.append(text)
    return ' '.join(lines)


def data_of(stem):
    for token, name in DATA:
        if token in stem:
            return name
    return None


def t_of(stem):
    m = re.search(r'-t(\d+)(?=[_-])', stem)
    return int(m.group(1)) if m else None


def quickstart_tasks(stem):
    if stem.startswith('mask-rcnn'):
        return ['Object Detection', 'Instance Segmentation']
    if stem.startswith('fpn'):
        return ['Semantic Segmentation']
    return ['Image Classification']


def q(s):
    """YAML double-quoted string."""
    return '"' + str(s).replace('\\', '\\\\').replace('"', '\\"') + '"'


def write_folder(folder, info, extra=()):
    paths = sorted(
        p for p in glob.glob(osp.join(ROOT, 'configs', folder, '*.py'))
        if is_config(p))
    paths += list(extra)
    if not paths:
        return None
    rel_dir = f'configs/{folder}'
    lines = ['Collections:', f'  - Name: {q(info["name"])}', '    Metadata:']
    datas = sorted({data_of(osp.basename(p)) for p in paths} - {None})
    lines.append('      Training Data:')
    lines += [f'        - {q(d)}' for d in datas]
    lines.append('      Architecture:')
    lines += [f'        - {q(a)}' for a in info['arch']]
    lines += [
        '    Paper:', f'      URL: {info["paper"]["URL"]}',
        f'      Title: {q(info["paper"]["Title"])}',
        f'    README: {rel_dir}/README.md', '', 'Models:'
    ]
    rows = []
    for path in paths:
        stem = osp.splitext(osp.basename(path))[0]
        rel = osp.relpath(path, ROOT)
        tasks = info['tasks'] or quickstart_tasks(stem)
        lines += [
            f'  - Name: {stem}', f'    In Collection: {q(info["name"])}',
            f'    Config: {rel}', '    Metadata:'
        ]
        data = data_of(stem)
        if data:
            lines.append(f'      Training Data: {q(data)}')
        t = t_of(stem)
        if t:
            lines.append(f'      Time Steps: {t}')
        results = []
        if stem in PAPER:
            task, ds, metrics, src = PAPER[stem]
            results.append((task, ds, metrics, 'Source: ' + src))
        for task, ds, metrics in OURS.get(stem, []):
            results.append((task, ds, metrics, 'Source: ' + OURS_SOURCE))
        if results:
            lines.append('    Results:')
            for task, ds, metrics, src in results:
                lines += [
                    f'      - Task: {task}', f'        Dataset: {q(ds)}',
                    '        Metrics:'
                ]
                lines += [f'          {k}: {v}' for k, v in metrics.items()]
                lines.append(f'        {src.split(": ", 1)[0]}: '
                             f'{q(src.split(": ", 1)[1])}')
        else:
            lines.append('    Results: null')
        lines += ['    Weights: null', '']
        rows.append((stem, rel, t, data, tasks, results, description(path)))
    with open(osp.join(ROOT, rel_dir, 'metafile.yml'), 'w') as f:
        f.write('\n'.join(lines).rstrip() + '\n')
    write_readme(folder, info, rows)
    return f'{rel_dir}/metafile.yml'


def write_readme(folder, info, rows):
    paper = info['paper']
    out = [
        f'# {info["name"]}', '', info['about'], '',
        f'Paper: [{paper["Title"]}]({paper["URL"]}).', '', '## Configs', '',
        '| config | T | data | what it is |', '| --- | --- | --- | --- |'
    ]
    for stem, rel, t, data, tasks, results, desc in rows:
        desc = desc.replace('|', '/')
        if len(desc) > 220:
            desc = desc[:217].rsplit(' ', 1)[0] + ' ...'
        out.append(f'| `{osp.basename(rel)}` | {t or ""} | {data or ""} | '
                   f'{desc} |')
    paper_rows = [(s, r) for s, _, _, _, _, res, _ in rows for r in res
                  if 'paper' in r[3]]
    ours_rows = [(s, r) for s, _, _, _, _, res, _ in rows for r in res
                 if 'measured here' in r[3]]
    out += ['', '## Results', '']
    if paper_rows:
        out += [
            "**The paper's figures** (not measured here: no GPU, no "
            'ImageNet weights can be downloaded on this machine):', '',
            '| config | dataset | metric | source |',
            '| --- | --- | --- | --- |'
        ]
        for s, (task, ds, metrics, src) in paper_rows:
            m = ', '.join(f'{k} {v}' for k, v in metrics.items())
            out.append(f'| `{s}` | {ds} | {m} | {src[len("Source: "):]} |')
        out.append('')
    if ours_rows:
        out += [
            '**Measured here** (2-core CPU, no GPU; commands and run '
            'times in the main README, section "Model zoo"):', '',
            '| config | dataset | metric |', '| --- | --- | --- |'
        ]
        for s, (task, ds, metrics, src) in ours_rows:
            m = ', '.join(f'{k} {v}' for k, v in metrics.items())
            out.append(f'| `{s}` | {ds} | {m} |')
        out.append('')
    if not paper_rows and not ours_rows:
        out += [
            'No trained weights and no figures yet: these recipes need '
            'GPUs, which this project has not had. Train with '
            '`python tools/train.py CONFIG` (see the main README).', ''
        ]
    out += [
        '## Use', '', '```bash', f'python tools/train.py {rows[0][1]}',
        f'python tools/test.py {rows[0][1]} CHECKPOINT',
        f'python tools/infer.py {rows[0][1]} CHECKPOINT IMAGE_OR_FOLDER '
        '--out-dir outputs/', '```', '',
        'or inherit a config in your own: `_base_ = '
        f"['spikedet::{folder}/{osp.basename(rows[0][1])}']`.", ''
    ]
    with open(osp.join(ROOT, 'configs', folder, 'README.md'), 'w') as f:
        f.write('\n'.join(out))


def main():
    argparse.ArgumentParser(
        description='Write model-index.yml and configs/<folder>/metafile.yml '
        '+ README.md from the configs in the tree.').parse_args()
    imports = []
    folders = sorted(
        d for d in os.listdir(osp.join(ROOT, 'configs'))
        if osp.isdir(osp.join(ROOT, 'configs', d)) and d != '_base_')
    unknown = [d for d in folders if d not in FOLDERS]
    if unknown:
        sys.exit(f'No collection info for config folder(s) {unknown}: add '
                 'them to FOLDERS in tools/misc/update_model_index.py.')
    top = [
        p for p in glob.glob(osp.join(ROOT, 'configs', '*.py')) if is_config(p)
    ]
    for d in folders:
        extra = top if d == 'mask-rcnn' else ()
        meta = write_folder(d, FOLDERS[d], extra)
        if meta:
            imports.append(meta)
    with open(osp.join(ROOT, 'model-index.yml'), 'w') as f:
        f.write('Import:\n' + ''.join(f'  - {m}\n' for m in imports))
    print('\n'.join(imports))


if __name__ == '__main__':
    main()
