"""The attacks on vhdsmd's listeners that both listener_limits_test.py and
tests/reliability/security.py make: slow clients (a byte at a time, in the
headers or in the body), clients announcing big bodies, the daemon's
resident memory meanwhile, and calls made as another local user.

Only the moves live here; each caller keeps its own bounds and assertions.
"""
import os
import socket

MIB = 1 << 20


def post_head(length):
    """The headers of a POST announcing a body of `length` bytes."""
    return (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
            b"Content-Length: %d\r\n\r\n" % length)


def slow_clients(port, n=64):
    """n connections to 127.0.0.1:port: every other one has sent its
    headers (it will trickle its body), the rest have sent nothing (they
    will trickle their headers)."""
    fds = [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]
    for s in fds[::2]:
        s.sendall(post_head(100000))
    return fds


def trickle_once(fds, closed):
    """One round of trickling: a byte on each fd not in `closed`, adding to
    `closed` the indexes of those the server has closed."""
    for i, s in enumerate(fds):
        if i in closed:
            continue
        try:
            s.setblocking(False)
            try:
                if s.recv(4096) == b"":
                    closed.add(i)
                    continue
            except BlockingIOError:
                pass
            s.send(b"x")
        except OSError:
            closed.add(i)


def vm_rss(pid):
    """The resident memory of process `pid`, in bytes."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def as_uid(uid, fn):
    """fn() in a forked child running as `uid` (gid the same, no groups);
    its result as a string (at most 4000 bytes), or "exception <type>:
    <message>" when it raised."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            out = str(fn())
        except BaseException as e:  # noqa: B902 pylint: disable=broad-except
            out = "exception %s: %s" % (type(e).__name__, e)
        os.write(w, out.encode()[:4000])
        os._exit(0)  # pylint: disable=protected-access
    os.close(w)
    with os.fdopen(r, "rb") as f:
        out = f.read()
    os.waitpid(pid, 0)
    return out.decode(errors="replace")
