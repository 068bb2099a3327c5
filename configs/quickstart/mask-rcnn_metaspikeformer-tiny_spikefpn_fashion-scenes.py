# Deprecated name, kept loadable for one release: config names now write T
# after the backbone token, always (e.g. metaspikeformer-15m-t4).
_base_ = ['./mask-rcnn_metaspikeformer-tiny-t1_spikefpn_fashion-scenes.py']
