# Deprecated name of retinanet_metaspikeformer-15m-t1_spikefpn_1x_coco.py, kept loadable for one release (config names
# now always write T after the backbone token, e.g. metaspikeformer-15m-t4).
_base_ = ['./retinanet_metaspikeformer-15m-t1_spikefpn_1x_coco.py']
