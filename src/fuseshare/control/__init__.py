"""The control side: one loop per active group (read → compute → act), live state, activation."""
