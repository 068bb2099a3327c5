# Paper reproduction: Semantic FPN with Meta-SpikeFormer-55M at T=4 on
# PASCAL VOC 2012, fine-tuned from the T=1 VOC segmentor.
#
# Reproduces BICLab/Spike-Driven-Transformer-V2 (commit 953aacc)
# segmentation/configs/sem_sdt/fpn_SDT_512x512_55M_T4_voc2012.py: the 55M
# T=1 VOC model at T=4 (averaged over time before the neck), fp16 AMP, AdamW
# lr 1e-4 (neck and head x1, weight decay 0.005), 1000 warmup iterations
# from 1e-7 x lr then a linear decay planned for 80k iterations, stopped at
# 40k; validation and checkpoints every 4k (its schedule_40k base); 4
# images per GPU (8 GPUs per the file's comment). The whole segmentor
# starts from the T=1 VOC segmentor with load_from.
#
# First train fpn_metaspikeformer-55m-t1_paper_8xb5-80k_voc12-512x512.py.
# On CPU: --cfg-options optim_wrapper.type=OptimWrapper.
#
# Remaining differences from the official file:
# * load_from: the published file loads its own iter_40000.pth (a file for
#   testing); by analogy with the 15M T=4 VOC file, whose commented-out
#   line names the T=1 VOC segmentor, this config starts from the 55M T=1
#   VOC segmentor;
# * 21 classes instead of 150; true strides 2-16 instead of the labels
#   4-32; neurons reset inside every forward.
_base_ = ['./fpn_metaspikeformer-55m-t1_paper_8xb5-80k_voc12-512x512.py']

load_from = ('work_dirs/fpn_metaspikeformer-55m-t1_paper_8xb5-80k_voc12-'
             '512x512/iter_80000.pth')
model = dict(backbone=dict(T=4, init_cfg=None))
optim_wrapper = dict(
    type='AmpOptimWrapper',
    dtype='float16',
    optimizer=dict(lr=1e-4),
    paramwise_cfg=dict(
        custom_keys=dict(neck=dict(lr_mult=1.), head=dict(lr_mult=1.))))
param_scheduler = [
    dict(
        type='LinearLR', start_factor=1e-7, by_epoch=False, begin=0, end=1000),
    dict(
        type='PolyLR',
        eta_min=0.,
        power=1.,
        by_epoch=False,
        begin=1000,
        end=80000),
]
train_cfg = dict(max_iters=40000, val_interval=4000)
default_hooks = dict(checkpoint=dict(interval=4000))
train_dataloader = dict(batch_size=4)
auto_scale_lr = dict(base_batch_size=32)
