# Deprecated name of metaspikeformer-55m-t1_8xb128_in1k-224.py, kept loadable for one release (config names
# now always write T after the backbone token, e.g. metaspikeformer-15m-t4).
_base_ = ['./metaspikeformer-55m-t1_8xb128_in1k-224.py']
