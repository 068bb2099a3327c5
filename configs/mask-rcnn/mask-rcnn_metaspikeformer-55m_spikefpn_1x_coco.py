# Deprecated name of mask-rcnn_metaspikeformer-55m-t1_spikefpn_1x_coco.py, kept loadable for one release (config names
# now always write T after the backbone token, e.g. metaspikeformer-15m-t4).
_base_ = ['./mask-rcnn_metaspikeformer-55m-t1_spikefpn_1x_coco.py']
