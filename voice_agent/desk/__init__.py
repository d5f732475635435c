"""The support desk: the shop's team sees every call, takes the hand-offs, works the cases."""
