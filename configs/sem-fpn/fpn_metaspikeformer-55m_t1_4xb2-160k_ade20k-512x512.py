# Deprecated name of fpn_metaspikeformer-55m-t1_4xb2-160k_ade20k-512x512.py, kept loadable for one release (config names
# now always write T after the backbone token, e.g. metaspikeformer-15m-t4).
_base_ = ['./fpn_metaspikeformer-55m-t1_4xb2-160k_ade20k-512x512.py']
