"""Adapters between the protocol sides' ports and the store. They translate; they do not decide."""
