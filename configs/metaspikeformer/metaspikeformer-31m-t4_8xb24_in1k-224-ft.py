# Meta-SpikeFormer-31M (the paper's code calls it metaspikformer_8_384),
# fine-tuned from T=1 to T=4 time steps on ImageNet-1k: the recipe of
# metaspikeformer-15m-t4_8xb24_in1k-224-ft.py with the 31m backbone.
_base_ = ['./metaspikeformer-15m-t4_8xb24_in1k-224-ft.py']

# A T=1 checkpoint of this model (e.g. work_dirs/
# metaspikeformer-31m-t1_8xb128_in1k-224/epoch_200.pth or the paper's release
# converted with tools/model_converters/sdtv2_to_spikedet.py); override with
# --cfg-options load_from=PATH.
load_from = 'checkpoints/metaspikeformer-31m_t1_in1k.pth'

model = dict(backbone=dict(arch='31m'), head=dict(in_channels=480))
