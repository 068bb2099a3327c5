# Deprecated name, kept loadable for one release: config names now write T
# after the backbone token, always (e.g. metaspikeformer-15m-t4).
_base_ = ['./fpn_r50-swap-metaspikeformer-15m-t1_ade20k-512x512.py']
