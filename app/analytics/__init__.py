"""The analytics core: every figure managers act on, computed once."""
