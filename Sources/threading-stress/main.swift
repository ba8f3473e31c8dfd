// threading-stress: the randomized stress checker (being written).
print("threading-stress: not yet implemented")
