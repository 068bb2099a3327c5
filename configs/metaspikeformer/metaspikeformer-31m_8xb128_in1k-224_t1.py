# Deprecated name, kept loadable for one release: config names now write T
# after the backbone token, always (e.g. metaspikeformer-15m-t4).
_base_ = ['./metaspikeformer-31m-t1_8xb128_in1k-224.py']
