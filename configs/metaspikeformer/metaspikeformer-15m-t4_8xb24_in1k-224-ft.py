# Meta-SpikeFormer-15M fine-tuned from T=1 to T=4 time steps on ImageNet-1k.
#
# The paper's T=4 schedule (train_finetune_from_t1_to_t4.sh), here without
# its teacher (for the distilled variant see
# metaspikeformer-55m-t4_8xb24_in1k-224-distill.py): start from a T=1
# checkpoint, 50 epochs, total batch 192 (8 GPUs x 24), LAMB with
# lr = 2e-5 x 192 / 256, 5 epochs of linear warmup, then cosine to 1e-6;
# augmentation, loss and evaluation as in T=1.
_base_ = ['./metaspikeformer-15m-t1_8xb128_in1k-224.py']

# A T=1 checkpoint of this model (same weights serve any T): the output of
# the T=1 config (e.g. work_dirs/metaspikeformer-15m-t1_8xb128_in1k-224/
# epoch_200.pth) or the paper's release converted with
# tools/model_converters/sdtv2_to_spikedet.py. Override with
# --cfg-options load_from=PATH.
load_from = 'checkpoints/metaspikeformer-15m_t1_in1k.pth'

model = dict(backbone=dict(T=4))

train_dataloader = dict(batch_size=24)
val_dataloader = dict(batch_size=64)
test_dataloader = val_dataloader

total_batch = 8 * 24
optim_wrapper = dict(optimizer=dict(lr=2e-5 * total_batch / 256))

param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-3,
        by_epoch=True,
        begin=0,
        end=5,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=45,
        eta_min=1e-6,
        by_epoch=True,
        begin=5,
        end=50,
        convert_to_iter_based=True),
]

train_cfg = dict(max_epochs=50)
auto_scale_lr = dict(base_batch_size=total_batch)

default_hooks = dict(checkpoint=dict(interval=5))
