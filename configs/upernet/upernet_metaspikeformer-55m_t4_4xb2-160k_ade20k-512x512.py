# Deprecated name, kept loadable for one release: config names now write T
# after the backbone token, always (e.g. metaspikeformer-15m-t4).
_base_ = ['./upernet_metaspikeformer-55m-t4_4xb2-160k_ade20k-512x512.py']
