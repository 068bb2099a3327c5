# Deprecated name, kept loadable for one release: config names now write T
# after the backbone token, always (e.g. metaspikeformer-15m-t4).
_base_ = ['./retinanet_metaspikeformer-15m-t1_spikefpn_1x_coco.py']
