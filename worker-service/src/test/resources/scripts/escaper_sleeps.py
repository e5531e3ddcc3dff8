# Starts a start_new_session grandchild, then keeps running until it is killed.
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"], start_new_session=True)
with open("grandchild.pid", "w") as f:
    f.write(str(child.pid))
print("spawned", child.pid, flush=True)
time.sleep(300)
