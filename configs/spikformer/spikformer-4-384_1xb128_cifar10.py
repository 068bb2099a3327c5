# Deprecated name of spikformer-4-384-t4_1xb128_cifar10.py, kept loadable for one release (config names
# now always write T after the backbone token, e.g. metaspikeformer-15m-t4).
_base_ = ['./spikformer-4-384-t4_1xb128_cifar10.py']
