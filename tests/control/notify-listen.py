#!/usr/bin/python3
"""tests/control/notify-listen.py PATH SECONDS: systemd's side of sd_notify
for the tests. Binds a unix datagram socket at PATH (the NOTIFY_SOCKET the
test gives a program) and prints every message it receives, one per line
(a message's own lines joined with '|'), until SECONDS have passed."""
import os
import socket
import sys
import time

path, seconds = sys.argv[1], float(sys.argv[2])
if os.path.exists(path):
    os.unlink(path)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
end = time.monotonic() + seconds
while True:
    left = end - time.monotonic()
    if left <= 0:
        break
    s.settimeout(left)
    try:
        msg = s.recv(4096)
    except socket.timeout:
        break
    print(msg.decode(errors="replace").strip().replace("\n", "|"), flush=True)
os.unlink(path)
