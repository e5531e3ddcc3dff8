import sys
print("about to fail")
print("Traceback: something broke", file=sys.stderr)
sys.exit(1)
