import Threading
print("threading-demo")
