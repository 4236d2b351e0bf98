"""Renderers of plans: text, markdown (pull requests) and json, from the same Plan object."""
