"""Planning: compare the declaration with live state and build a reviewable plan."""
