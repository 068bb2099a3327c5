# Deprecated name of metaspikeformer-tiny-t1_fashion-mnist.py, kept loadable for one release (config names
# now always write T after the backbone token, e.g. metaspikeformer-15m-t4).
_base_ = ['./metaspikeformer-tiny-t1_fashion-mnist.py']
