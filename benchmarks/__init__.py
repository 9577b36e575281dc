"""Benchmarks of Backprop Lens (not tests): see README.md in this folder."""
