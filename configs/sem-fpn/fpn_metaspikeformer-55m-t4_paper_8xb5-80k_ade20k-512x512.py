# Paper reproduction: Semantic FPN with Meta-SpikeFormer-55M at T=4 on
# ADE20K, fine-tuned from the T=1 segmentor.
#
# Reproduces BICLab/Spike-Driven-Transformer-V2 (commit 953aacc)
# segmentation/configs/sem_sdt/fpn_SDT_512x512_55M_T4_ade20k.py: the 55M
# T=1 model at T=4 (averaged over time before the neck); the backbone starts
# from the T=1 segmentor's final checkpoint ('backbone.*' keys, neck and
# head afresh, as the official init_cfg does); fp16 AMP, AdamW lr 1e-3,
# neck and head x2, weight decay 0.05; 1500 warmup iterations then a linear
# decay planned for 160k iterations, stopped at 80k (lr still half of its
# peak); validation every 8k, checkpoints every 4k (its schedule_40k base);
# 5 images per GPU (8 GPUs per the file's comment).
#
# First train fpn_metaspikeformer-55m-t1_paper_8xb5-160k_ade20k-512x512.py.
# On CPU: --cfg-options optim_wrapper.type=OptimWrapper.
#
# Remaining differences from the official file: true strides 2-16 instead
# of the labels 4-32, strict loading, neurons reset inside every forward.
_base_ = ['./fpn_metaspikeformer-55m-t1_paper_8xb5-160k_ade20k-512x512.py']

t1_segmentor = ('work_dirs/fpn_metaspikeformer-55m-t1_paper_8xb5-160k_'
                'ade20k-512x512/iter_160000.pth')
model = dict(
    backbone=dict(
        T=4,
        init_cfg=dict(
            type='Pretrained', checkpoint=t1_segmentor, prefix='backbone.')))
optim_wrapper = dict(
    type='AmpOptimWrapper',
    dtype='float16',
    optimizer=dict(weight_decay=0.05),
    paramwise_cfg=dict(
        custom_keys=dict(neck=dict(lr_mult=2.), head=dict(lr_mult=2.))))
# The PolyLR of the base still ends at 160000.
train_cfg = dict(max_iters=80000, val_interval=8000)
default_hooks = dict(checkpoint=dict(interval=4000))
