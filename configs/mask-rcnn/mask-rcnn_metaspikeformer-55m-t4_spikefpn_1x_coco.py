# Mask R-CNN, Meta-SpikeFormer-55M with T=4, spiking FPN, 1x COCO. Heaviest
# variant: add --cfg-options model.backbone.with_cp=True if memory is short.
_base_ = ['./mask-rcnn_metaspikeformer-55m-t1_spikefpn_1x_coco.py']

# The paper's released 55M T=4 ImageNet model, converted with
# tools/model_converters/sdtv2_to_spikedet.py ... --arch 55m.
pretrained = 'checkpoints/metaspikeformer-55m_t4_in1k.pth'
T = 4

model = dict(
    backbone=dict(
        T=T,
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    neck=dict(T=T))
