"""Complete example repositories that ``dsgit init --example NAME`` copies."""
