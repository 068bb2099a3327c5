# Deprecated name of fpn_r50-swap-metaspikeformer-15m-t1_ade20k-512x512.py, kept loadable for one release (config names
# now always write T after the backbone token, e.g. metaspikeformer-15m-t4).
_base_ = ['./fpn_r50-swap-metaspikeformer-15m-t1_ade20k-512x512.py']
