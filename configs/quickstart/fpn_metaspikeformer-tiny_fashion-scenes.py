# Deprecated name, kept loadable for one release: config names now write T
# after the backbone token, always (e.g. metaspikeformer-15m-t4).
_base_ = ['./fpn_metaspikeformer-tiny-t1_fashion-scenes.py']
