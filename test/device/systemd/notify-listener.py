"""Stand-in for systemd's notification socket in tests.

Binds an AF_UNIX datagram socket, prints each received message as one JSON line, and closes
file descriptors passed with it (systemd-notify's BARRIER=1 waits until its fd is closed).
"""
import array
import json
import os
import socket
import sys

path = sys.argv[1]
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
print(json.dumps({"listening": path}), flush=True)
while True:
    msg, anc, _flags, _addr = sock.recvmsg(65536, socket.CMSG_SPACE(16 * array.array("i").itemsize))
    fds = array.array("i")
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
    for fd in fds:
        os.close(fd)
    print(json.dumps({"message": msg.decode("utf-8", "replace"), "fds": len(fds)}), flush=True)
