"""Unrolled's numerical core: recurrent cells, sequence runner, traces and backprop through time.

Pure NumPy. Nothing in this package imports web code, so it can be used from a notebook, a CLI or the server alike.
"""
