# Deprecated name of spikformer-8-384-t4_8xb24_in1k-224.py, kept loadable for one release (config names
# now always write T after the backbone token, e.g. metaspikeformer-15m-t4).
_base_ = ['./spikformer-8-384-t4_8xb24_in1k-224.py']
