#!/usr/bin/python3
"""Security checks, end to end against the real programs.

1. No shell: the product code (base/, vhd/, xmlrpc/, upload/, sm/, image/, host/) calls no system(),
   popen(), wordexp() and execs no shell ("/bin/sh", "sh" "-c"); comments
   aside. The scanner is checked on a sample that has each form.
2. vhdsmd's Unix socket is created 0600 and owned by root; a process of uid
   65534 cannot connect to it; with the socket made 0666 (by this test) it
   can connect and gets HTTP 403 (SO_PEERCRED), while root gets answers.
   Over the loopback TCP port, uid 65534 may name only SR directories
   inside sr_roots: /root, /tmp, "/srv/../root" are fault 47 and create
   nothing. (Root only: a visible SKIP otherwise.)
2b. vhdsmd's listeners: 64 slow clients on the TCP port are closed by the
   request deadline, 64 clients announcing 8 MiB bodies get 503 past the
   body budget with VmRSS bounded, and the Unix socket answers throughout.
3. Leaving the SR: vdi_location / vdi_uuid values such as "../x",
   absolute paths, "..", a uuid with a path after it, for every VDI
   command (VHDSR and vhdsmd); task ids likewise; a VDI file that is a
   symlink to a VHD outside the SR; a VDI whose parent is outside. Each is
   refused (a fault, never a crash) and nothing outside the SR changes
   (the files there keep their bytes, nothing is created next to the SR).
4. Credentials never leak: image tasks run with known secret keys (inline,
   from a configured store, through `vhdsm image create` with --key-file
   and $VHDSM_KEY), failing (wrong key), succeeding, cancelled, killed
   with the daemon and resumed; then the secrets are grepped for in the
   daemon's syslog (captured by an LD_PRELOAD shim, checked to work), its
   stderr, the CLI's output, every fault and task status returned, every
   file of the SR (task records included) and of the state directory; the
   inline key's file must be 0600 while the task runs and gone after.

  security.py [--workdir DIR]
"""
import os
import re
import secrets
import select
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
import xmlrpc.client

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# pylint: disable=wrong-import-position
from common import (MIB, SR_UUID, SRC, UTIL, VHDSM, Daemon, Results,  # noqa: E402
                    Swift, check_files, is_asan_build, make_data, rng_for, sm, write,
                    xapi_call, vhdsr, part_arguments)
from listener_attack import (as_uid, post_head, slow_clients, trickle_once,  # noqa: E402
                             vm_rss)

NOBODY = 65534

# ---------------------------------------------------------------------------
# 1. no shell


def strip_comments(text):
    """C/C++ source without its comments (string and char literals kept)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            out.append(" ")
            i = n if j < 0 else j + 2
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


SHELL_PATTERNS = [
    (r"(?<![\w:.>])(std::)?system\s*\(", "system()"),
    (r"\bpopen\s*\(", "popen()"),
    (r"\bwordexp\s*\(", "wordexp()"),
    (r'"(/usr)?(/bin/)?(ba|da|z|k)?sh"', "a shell's name"),
    (r'"-c"', '"-c" (sh -c)'),
]


def shell_calls(text):
    code = strip_comments(text)
    found = []
    for pat, what in SHELL_PATTERNS:
        for m in re.finditer(pat, code):
            line = code.count("\n", 0, m.start()) + 1
            found.append((line, what))
    return found


def check_no_shell(res):
    row = res.row("no shell in product code")
    # The scanner must find each form (else a clean result means nothing).
    sample = ('int a = system("x");\nFILE* f = popen(cmd, "r");\n'
              'execl("/bin/sh", "sh", "-c", cmd, nullptr);\nstd::system(c);\n'
              'wordexp(s, &w, 0);\n')
    clean = ('// system("x") in a comment\n/* popen( */\n'
             'std::filesystem::path p; subsystem(1); x.system (2);\n'
             'const char* u = "http://x"; // "/bin/sh"\n')
    kinds = {w for _, w in shell_calls(sample)}
    if kinds != {w for _, w in SHELL_PATTERNS}:
        res.fail("no shell in product code",
                 "the scanner misses %s" % ({w for _, w in SHELL_PATTERNS} - kinds),
                 "tests/reliability/security.py")
    if shell_calls(clean):
        res.fail("no shell in product code", "the scanner flags clean code: %s"
                 % shell_calls(clean), "tests/reliability/security.py")
    files = 0
    for top in ("base", "vhd", "xmlrpc", "upload", "sm", "image", "host"):
        for root, _, names in os.walk(os.path.join(SRC, top)):
            for n in sorted(names):
                if not n.endswith((".cc", ".h", ".c")):
                    continue
                path = os.path.join(root, n)
                with open(path, encoding="utf-8", errors="replace") as f:
                    hits = shell_calls(f.read())
                files += 1
                for line, what in hits:
                    res.fail("no shell in product code", "%s:%d calls %s"
                             % (os.path.relpath(path, SRC), line, what),
                             "grep -n in %s" % os.path.relpath(path, SRC))
    row["tried"] += files
    row["detail"]["files_scanned"] = files
    if not res.failures:
        row["recovered"] += files
    print("no shell: %d source files scanned" % files, flush=True)


# ---------------------------------------------------------------------------
# 2. socket mode and SO_PEERCRED


def as_nobody(fn):
    """fn() as uid/gid 65534 (see listener_attack.as_uid)."""
    return as_uid(NOBODY, fn)


def post_unix(path, body, timeout=10):
    """POSTs body to the socket; "status <code>" or the error."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
    except OSError as e:
        return "connect %s" % (e.__class__.__name__)
    req = ("POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\n"
           "Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)).encode() + body
    s.sendall(req)
    data = b""
    while True:
        try:
            b = s.recv(65536)
        except OSError:
            break
        if not b:
            break
        data += b
    s.close()
    m = re.match(rb"HTTP/1\.[01] (\d{3})", data)
    return ("status %s" % m.group(1).decode()) if m else "no status: %r" % data[:100]


def check_socket(res, daemon):
    row = res.row("socket 0600 + SO_PEERCRED, TCP in sr_roots")
    body = xapi_call("sr_get_driver_info").encode()

    def expect(what, ok, detail=""):
        row["tried"] += 1
        if ok:
            row["recovered"] += 1
        else:
            res.fail("socket 0600 + SO_PEERCRED, TCP in sr_roots", "%s: %s" % (what, detail),
                     "tests/reliability/security.py")
    st = os.stat(daemon.sock)
    expect("the socket is a socket", stat.S_ISSOCK(st.st_mode))
    expect("the socket's mode is 0600", stat.S_IMODE(st.st_mode) == 0o600,
           oct(stat.S_IMODE(st.st_mode)))
    expect("the socket is owned by root", st.st_uid == 0, str(st.st_uid))
    r = post_unix(daemon.sock, body)
    expect("root is answered", r == "status 200", r)
    r = as_nobody(lambda: post_unix(daemon.sock, body))
    expect("uid 65534 cannot connect to the 0600 socket",
           r.startswith("connect PermissionError"), r)
    os.chmod(daemon.sock, 0o666)
    try:
        r = as_nobody(lambda: post_unix(daemon.sock, body))
        expect("uid 65534 gets 403 on a 0666 socket (SO_PEERCRED)", r == "status 403", r)
        r = post_unix(daemon.sock, body)
        expect("root is still answered", r == "status 200", r)
    finally:
        os.chmod(daemon.sock, 0o600)
    # The loopback TCP port (an opt-in) answers every local user, who may
    # then name only SR directories inside sr_roots (the daemon's work
    # directory here): elsewhere fault 47, and nothing is created.
    port = daemon.port
    inside = os.path.join(os.path.dirname(daemon.sock), "sr-in-roots")
    os.makedirs(inside, exist_ok=True)
    os.chown(inside, NOBODY, NOBODY)

    def sr_create(location):
        def call():
            px = xmlrpc.client.ServerProxy("http://127.0.0.1:%d/" % port)
            try:
                px.sr_create({"command": "sr_create", "args": ["0"], "sr_uuid": SR_UUID,
                              "device_config": {"location": location}})
                return "ok"
            except xmlrpc.client.Fault as f:
                return "fault %d" % f.faultCode
        return as_nobody(call)
    root_before = sorted(os.listdir("/root"))
    for loc in ("/root", "/root/vhdsm-x", "/tmp", "/srv/../root", inside + "/../.."):
        r = sr_create(loc)
        expect("uid 65534 over TCP naming %s gets fault 47" % loc, r == "fault 47", r)
    expect("nothing was created in /root", sorted(os.listdir("/root")) == root_before)
    r = sr_create(inside)
    expect("uid 65534 over TCP may use a directory inside sr_roots", r == "ok", r)
    row["detail"]["tcp_port_uid_65534"] = "confined to sr_roots"

def check_listener(res, workdir):
    """Slow clients and clients holding big bodies on the TCP port: the
    request deadline closes the slow ones, the body budget answers 503 past
    16 MiB, vhdsmd's VmRSS stays bounded, and the Unix socket answers
    throughout."""
    name = "listener: slow and big-body clients"
    row = res.row(name)

    def expect(what, ok, detail=""):
        row["tried"] += 1
        if ok:
            row["recovered"] += 1
        else:
            res.fail(name, "%s: %s" % (what, detail), "tests/reliability/security.py")
    ddir = os.path.join(workdir, "listener")
    os.makedirs(ddir)
    conf = os.path.join(ddir, "vhdsm.conf")
    with open(conf, "w") as f:
        f.write("[daemon]\nsr_roots = %s\nrequest_timeout = 3\nbody_memory = 16M\n" % ddir)
    d = Daemon(ddir, env={"VHDSM_STATE_DIR": os.path.join(ddir, "state")},
               args=["--config", conf]).start()

    def unix_answers():
        try:
            return d.unix_proxy().sr_get_driver_info(
                {"command": "sr_get_driver_info", "args": []})["name"] == "vhdsm VHD"
        except Exception:  # pylint: disable=broad-except
            return False
    try:
        # 64 clients sending a byte every half second (headers or body).
        fds = slow_clients(d.port)
        closed, answered = set(), True
        t0 = time.time()
        while len(closed) < len(fds) and time.time() - t0 < 60:
            trickle_once(fds, closed)
            if not closed:
                answered = answered and unix_answers()
            time.sleep(0.5)
        for s in fds:
            s.close()
        expect("64 slow clients closed by the 3 s deadline", len(closed) == len(fds),
               "%d of %d closed after %.0f s" % (len(closed), len(fds), time.time() - t0))
        expect("the Unix socket answers during the slow clients", answered)
        row["detail"]["slow_clients_closed_s"] = round(time.time() - t0, 1)
        # 64 clients announcing 8 MiB bodies: past the 16 MiB budget, 503.
        pid = d.target_pid()
        rss = lambda: vm_rss(pid)
        before = peak = rss()
        fds = []
        for _ in range(64):
            s = socket.create_connection(("127.0.0.1", d.port), timeout=30)
            s.sendall(post_head(8 * MIB))
            fds.append(s)
        refused, taken = 0, []
        for s in fds:
            if select.select([s], [], [], 1.0)[0]:
                refused += s.recv(64).startswith(b"HTTP/1.1 503")
            else:
                taken.append(s)
        for s in taken:  # the bodies the budget took, all but a byte
            try:
                s.sendall(b"x" * (8 * MIB - 1))
            except OSError:
                pass
            peak = max(peak, rss())
        answered = unix_answers()
        peak = max(peak, rss())
        for s in fds:
            s.close()
        expect("62 of 64 big bodies answered 503", refused >= 62, "%d refused" % refused)
        expect("VmRSS grows by less than 96 MiB (unbounded: 512 MiB)",
               peak - before < 96 * MIB, "%d -> %d" % (before, peak))
        expect("the Unix socket answers during the big bodies", answered)
        row["detail"]["big_bodies_refused"] = refused
        row["detail"]["rss_growth_mib"] = round((peak - before) / MIB, 1)
    finally:
        d.stop()


# ---------------------------------------------------------------------------
# 3. leaving the SR


HOSTILE = ["../x", "../../etc/passwd", "/etc/passwd", "..", ".", "./", "x/../../y",
           "../outside/victim", "%2e%2e/x", "..\\x", "~root", "a" * 300,
           "00000000-0000-4000-8000-000000000000/../../x",
           "00000000-0000-4000-8000-000000000000.vhd", " ../x", "\u2025/x"]
VDI_COMMANDS = ["vdi_attach", "vdi_detach", "vdi_activate", "vdi_deactivate",
                "vdi_delete", "vdi_snapshot", "vdi_clone", "vdi_resize", "vdi_update",
                "vdi_introduce", "vdi_generate_config", "vdi_attach_from_config",
                "vdi_coalesce", "vdi_compose"]
# No-ops that open no VDI file (they may accept anything; they must not
# touch anything, which the before/after comparison checks).
NOOP_COMMANDS = ["vdi_epoch_begin", "vdi_epoch_end"]
REFUSED = (143, 144, 46, 47, 38, 80, 81, 82, 110, 65, 202)


def tree(path):
    """path -> (size, sha256) of every file under path (symlinks as their
    target text)."""
    import hashlib  # pylint: disable=import-outside-toplevel
    out = {}
    for root, dirs, names in os.walk(path):
        for n in names + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            p = os.path.join(root, n)
            if os.path.islink(p):
                out[os.path.relpath(p, path)] = ("link", os.readlink(p))
                continue
            with open(p, "rb") as f:
                out[os.path.relpath(p, path)] = (os.path.getsize(p),
                                                 hashlib.sha256(f.read()).hexdigest())
    return out


def check_traversal(res, workdir, daemon):
    base = os.path.join(workdir, "trav")
    sr = os.path.join(base, "sr")
    outside = os.path.join(base, "outside")
    os.makedirs(sr)
    os.makedirs(outside)
    # Outside the SR: VHDs an attacker would like us to touch.
    victim = os.path.join(outside, "victim.vhd")
    subprocess.run([UTIL, "create", "-n", victim, "-s", "4"], check=True,
                   capture_output=True)
    write(victim, 0, make_data(rng_for("victim"), MIB))
    u_link = "5b5b5b5b-0000-4000-8000-00000000a001"
    u_child = "5b5b5b5b-0000-4000-8000-00000000a002"
    target = os.path.join(outside, u_link + ".vhd")
    subprocess.run([UTIL, "create", "-n", target, "-s", "4"], check=True,
                   capture_output=True)
    assert sm(sr, "sr_create", ["0"]) is None
    v = sm(sr, "vdi_create", [str(8 * MIB)])["uuid"]
    write(os.path.join(sr, v + ".vhd"), 0, make_data(rng_for("v"), MIB))
    # A VDI file that is a symlink out of the SR, and a VDI whose parent is
    # outside.
    os.symlink(os.path.join("..", "outside", u_link + ".vhd"),
               os.path.join(sr, u_link + ".vhd"))
    subprocess.run([UTIL, "snapshot", "-n", os.path.join(sr, u_child + ".vhd"), "-p",
                    victim], check=True, capture_output=True)
    before_out = tree(outside)
    before_names = sorted(os.listdir(base))
    row = res.row("leaving the SR")
    px = daemon.unix_proxy()

    def one(via, command, **members):
        """One hostile call; refused = a fault (any of REFUSED), answered
        at all. Returns the fault code or 'ok'."""
        row["tried"] += 1
        members.setdefault("sr_uuid", SR_UUID)
        args = members.pop("args", ["8388608"] if command == "vdi_resize" else
                           [v] if command == "vdi_compose" else [])
        try:
            if via == "VHDSR":
                r = vhdsr(xapi_call(command, {"location": sr}, args, **members))
            else:
                p = {"command": command, "args": args, "device_config": {"location": sr}}
                p.update(members)
                try:
                    r = getattr(px, command)(p)
                except xmlrpc.client.Fault as f:
                    r = f
        except Exception as e:  # pylint: disable=broad-except
            res.fail("leaving the SR", "%s %s %r: no answer: %r" % (via, command, members, e),
                     "tests/reliability/security.py")
            return "error"
        return r.faultCode if isinstance(r, xmlrpc.client.Fault) else "ok"

    def refused(via, command, what, **members):
        code = one(via, command, **members)
        if code in REFUSED:
            row["recovered"] += 1
            row["detail"]["fault %s" % code] = row["detail"].get("fault %s" % code, 0) + 1
        elif code != "error":
            res.fail("leaving the SR", "%s %s with %s was not refused: %s"
                     % (via, command, what, code), "tests/reliability/security.py")

    for via in ("VHDSR", "vhdsmd"):
        for h in HOSTILE:
            for command in VDI_COMMANDS:
                refused(via, command, "vdi_location %r" % h, vdi_location=h, vdi_uuid=h)
            for command in NOOP_COMMANDS:
                code = one(via, command, vdi_location=h, vdi_uuid=h)
                row["recovered"] += 1
                key = "%s: %s" % (command, "accepted (no-op)" if code == "ok" else
                                  "fault %s" % code)
                row["detail"][key] = row["detail"].get(key, 0) + 1
            refused(via, "vdi_create", "vdi_uuid %r" % h, vdi_uuid=h, args=[str(8 * MIB)])
            refused(via, "vdi_compose", "parent %r" % h, vdi_location=v, vdi_uuid=v,
                    args=[h])
            refused(via, "image_create", "vdi_location %r" % h, vdi_location=h,
                    vdi_uuid=h, image={"auth_url": "http://127.0.0.1:1/", "user": "u",
                                       "allow_insecure": "true",
                                       "key": "k", "container": "c", "object": "o"})
            if via == "vhdsmd":
                for command in ("task_status", "task_cancel", "task_resume"):
                    refused(via, command, "task_id %r" % h, task_id=h)
        # The symlinked VDI: every command that would open, change or
        # remove it refuses.
        for command in VDI_COMMANDS:
            if command in ("vdi_detach", "vdi_deactivate"):
                continue  # touch no file
            refused(via, command, "a VDI that is a symlink out of the SR",
                    vdi_location=u_link, vdi_uuid=u_link)
    # Whole-SR commands with those files in place: they may work (they
    # ignore the symlink) or fault (the parent outside is not a VDI of this
    # SR), but must not write outside.
    for command in ("sr_scan", "sr_gc", "sr_list", "sr_attach"):
        row["tried"] += 1
        r = sm(sr, command)
        row["detail"]["%s with hostile files" % command] = \
            "fault %d" % r.faultCode if isinstance(r, xmlrpc.client.Fault) else "ok"
        row["recovered"] += 1
    # The child of an outside parent: coalescing or resizing it must not
    # write the parent.
    for command in ("vdi_coalesce", "vdi_resize", "vdi_snapshot", "vdi_delete"):
        one("VHDSR", command, vdi_location=u_child, vdi_uuid=u_child)
        row["recovered"] += 1
    after_out = tree(outside)
    if after_out != before_out:
        changed = sorted(set(after_out.items()) ^ set(before_out.items()))
        res.fail("leaving the SR", "files outside the SR changed: %s" % changed[:4],
                 "tests/reliability/security.py")
        row["lost"] += 0
    if sorted(os.listdir(base)) != before_names:
        res.fail("leaving the SR", "files appeared next to the SR: %s"
                 % (set(os.listdir(base)) - set(before_names)),
                 "tests/reliability/security.py")
    for p in check_files(sr):
        if u_link not in p and u_child not in p:
            res.fail("leaving the SR", "SR damaged: %s" % p, "tests/reliability/security.py")
    print("leaving the SR: %d hostile requests, %d refused" % (row["tried"],
                                                               row["recovered"]), flush=True)

# ---------------------------------------------------------------------------
# 4. credentials


class Credentials:
    def __init__(self, res, workdir, swift, shim):
        self.res = res
        self.dir = os.path.join(workdir, "cred")
        os.makedirs(self.dir)
        self.sr = os.path.join(self.dir, "sr")
        os.makedirs(self.sr)
        self.state = os.path.join(self.dir, "state")
        self.swift = swift
        self.shim = shim
        self.capture = os.path.join(self.dir, "syslog.txt")
        self.seen = []  # every fault and task status, as text
        self.outputs = []  # CLI outputs
        self.wrong = "vhdsm-wrong-" + secrets.token_hex(12)
        self.store_key = "vhdsm-store-" + secrets.token_hex(12)
        self.env_key = "vhdsm-envkey-" + secrets.token_hex(12)
        self.row = res.row("credentials")
        conf = os.path.join(self.dir, "vhdsm.conf")
        with open(conf, "w") as f:
            f.write("[daemon]\nsr_roots = %s\n" % self.dir)
            f.write("[image]\nretry_delay_scale = 0.02\n")
            f.write("[store wrongstore]\nauth_url = %s\nuser = %s\nkey = %s\n"
                    "allow_insecure = true\n"
                    % (swift.auth, swift.user, self.store_key))
        os.chmod(conf, 0o600)
        self.conf = conf

    def daemon(self):
        """vhdsmd with the store configuration, its syslog captured."""
        env = {"VHDSM_STATE_DIR": self.state, "LD_PRELOAD": self.shim,
               "VHDSM_SYSLOG_CAPTURE": self.capture, "VHDSM_GC": "thread"}
        return Daemon(self.dir, env=env, args=["--config", self.conf]).start()

    def p(self, command, **m):
        d = {"command": command, "args": [], "device_config": {"location": self.sr},
             "sr_uuid": SR_UUID}
        d.update(m)
        return d

    def call(self, px, command, **m):
        try:
            r = getattr(px, command)(self.p(command, **m))
        except xmlrpc.client.Fault as f:
            self.seen.append("fault %d %s" % (f.faultCode, f.faultString))
            return f
        self.seen.append(repr(r))
        return r

    def wait(self, px, tid, on=None, timeout=120):
        deadline = time.time() + timeout
        while time.time() < deadline:
            st = self.call(px, "task_status", task_id=tid)
            if on:
                on(st)
            if isinstance(st, dict) and st["state"] in ("done", "failed", "cancelled"):
                return st
            time.sleep(0.05)
        raise RuntimeError("task %s did not end" % tid)

    def image(self, key=None, store=None, **extra):
        im = {"container": "sec", "object": "o-%d" % time.monotonic_ns(),
              "segment_size": str(MIB), "parallel_segments": "1"}
        if store:
            im["store"] = store
        else:
            im.update({"auth_url": self.swift.auth, "user": self.swift.user,
                       "allow_insecure": "true",
                       "key": self.swift.key if key is None else key})
        im.update(extra)
        return im

    def expect(self, what, ok, detail=""):
        self.row["tried"] += 1
        if ok:
            self.row["recovered"] += 1
        else:
            self.res.fail("credentials", "%s: %s" % (what, detail),
                          "tests/reliability/security.py")

    def run(self, daemon_for_peer_log):
        sm(self.sr, "sr_create", ["0"])
        v = sm(self.sr, "vdi_create", [str(16 * MIB)])["uuid"]
        write(os.path.join(self.sr, v + ".vhd"), 0, make_data(rng_for("cred"), 6 * MIB))
        d = self.daemon()
        px = d.unix_proxy()
        try:
            # A refused peer: the daemon logs it (shows the capture works).
            os.chmod(d.sock, 0o666)
            as_nobody(lambda: post_unix(d.sock, xapi_call("sr_get_driver_info").encode()))
            os.chmod(d.sock, 0o600)
            # Wrong inline key: AUTH_FAILED.
            t = self.call(px, "image_create", vdi_uuid=v, vdi_location=v,
                          image=self.image(key=self.wrong))
            st = self.wait(px, t)
            self.expect("a wrong key fails AUTH_FAILED", st["error_code"] == "AUTH_FAILED",
                        st)
            # A configured store with a wrong key (the daemon reads the
            # configuration file).
            d.stop()
            d = self.daemon()
            px = d.unix_proxy()
            t = self.call(px, "image_create", vdi_uuid=v, vdi_location=v,
                          image=self.image(store="wrongstore"))
            st = self.wait(px, t)
            self.expect("a store's wrong key fails AUTH_FAILED",
                        st["error_code"] == "AUTH_FAILED", st)
            # A bad request that carries a key: the fault must not echo it.
            for bad in ({"format": "zip"}, {"segment_size": "x"}, {"manifest": "?"}):
                r = self.call(px, "image_create", vdi_uuid=v, vdi_location=v,
                              image=self.image(key=self.wrong, **bad))
                self.expect("a bad image request faults", isinstance(r, xmlrpc.client.Fault),
                            r)
            # The right key: done; the key's file is 0600 while it runs and
            # gone after.
            modes = []

            def watch(st):
                p = os.path.join(self.state, "secrets", st.get("task_id", ""))
                if os.path.exists(p):
                    modes.append((stat.S_IMODE(os.stat(p).st_mode),
                                  stat.S_IMODE(os.stat(os.path.dirname(p)).st_mode)))
            t = self.call(px, "image_create", vdi_uuid=v, vdi_location=v,
                          image=self.image())
            st = self.wait(px, t, on=watch)
            self.expect("the right key: done", st["state"] == "done", st)
            self.expect("the key's file is 0600 in a 0700 directory while the task runs",
                        all(m == (0o600, 0o700) for m in modes), modes)
            # Cancelled.
            t = self.call(px, "image_create", vdi_uuid=v, vdi_location=v,
                          image=self.image(segment_size=str(MIB)))
            self.call(px, "task_cancel", task_id=t)
            st = self.wait(px, t)
            self.expect("a cancelled task ends", st["state"] in ("cancelled", "done"), st)
            # Killed with the daemon, resumed by the next one.
            t = self.call(px, "image_create", vdi_uuid=v, vdi_location=v,
                          image=self.image())
            time.sleep(0.3)
            d.kill()
            d = self.daemon()
            px = d.unix_proxy()
            st = self.wait(px, t)
            self.expect("a task killed with its daemon resumes and ends",
                        st["state"] in ("done", "failed"), st)
        finally:
            d.stop()
        # The CLI: --key-file and $VHDSM_KEY, in-process, wrong keys.
        keyfile = os.path.join(self.dir, "keyfile")
        with open(keyfile, "w") as f:
            f.write(self.wrong + "\n")
        os.chmod(keyfile, 0o600)
        env = dict(os.environ, VHDSM_STATE_DIR=self.state, LD_PRELOAD=self.shim,
                   VHDSM_SYSLOG_CAPTURE=self.capture)
        env.pop("VHDSM_GC", None)
        for how, extra, e in (("--key-file", ["--key-file", keyfile], env),
                              ("$VHDSM_KEY", [], dict(env, VHDSM_KEY=self.env_key))):
            p = subprocess.run([VHDSM, "image", "create", self.sr, v, "--container", "sec",
                                "--object", "cli", "--auth-url", self.swift.auth,
                                "--allow-insecure",
                                "--user", self.swift.user] + extra, capture_output=True,
                               text=True, env=e, timeout=120, check=False)
            self.outputs.append(p.stdout + p.stderr)
            self.expect("vhdsm image create with a wrong key (%s) fails" % how,
                        p.returncode != 0, p.returncode)
        # Workers of the CLI's tasks may still be finishing.
        time.sleep(1.0)
        self.grep()

    def grep(self):
        secrets_ = {"wrong inline key": self.wrong, "store key": self.store_key,
                    "$VHDSM_KEY": self.env_key, "the right key": self.swift.key}
        places = {}
        try:
            with open(self.capture, errors="replace") as f:
                places["syslog"] = f.read()
        except OSError:
            places["syslog"] = ""
        self.expect("the syslog capture works (the refused peer is logged)",
                    "refused a Unix-socket peer" in places["syslog"],
                    "no such line in %s" % self.capture)
        stderr_path = os.path.join(self.dir, "vhdsmd.stderr")
        with open(stderr_path, errors="replace") as f:
            places["vhdsmd stderr"] = f.read()
        places["faults and task status"] = "\n".join(self.seen)
        places["CLI output"] = "\n".join(self.outputs)
        files = 0
        for top in (self.sr, self.state):
            for root, _, names in os.walk(top):
                for n in names:
                    p = os.path.join(root, n)
                    with open(p, "rb") as f:
                        places[os.path.relpath(p, self.dir)] = f.read().decode(
                            "latin-1")
                    files += 1
        for what, secret in secrets_.items():
            for where, text in places.items():
                # The right key ("testing") is a common word: looked for
                # only where no VHD data is.
                if what == "the right key" and where.endswith(".vhd"):
                    continue
                self.row["tried"] += 1
                if secret in text:
                    self.res.fail("credentials", "the %s appears in %s" % (what, where),
                                  "tests/reliability/security.py")
                else:
                    self.row["recovered"] += 1
        left = os.listdir(os.path.join(self.state, "secrets")) \
            if os.path.isdir(os.path.join(self.state, "secrets")) else []
        self.expect("no task's key outlives it", not left, left)
        self.row["detail"].update({"places_grepped": len(places), "files_grepped": files,
                                   "syslog_lines": places["syslog"].count("\n")})
        print("credentials: %d places (%d files, %d syslog lines) grepped for 4 secrets"
              % (len(places), files, places["syslog"].count("\n")), flush=True)


def build_shim(workdir):
    """The LD_PRELOAD value that loads the syslog shim (after the ASan
    runtime on an ASan build: it must come first in the library list)."""
    out = os.path.join(workdir, "syslog_capture.so")
    subprocess.run(["cc", "-shared", "-fPIC", "-O1", "-o", out,
                    os.path.join(SRC, "tests", "reliability", "syslog_capture.c")],
                   check=True)
    if is_asan_build():
        asan = subprocess.run(["cc", "-print-file-name=libasan.so"], capture_output=True,
                              text=True, check=True).stdout.strip()
        return asan + ":" + out
    return out


def main():
    ap = part_arguments(__doc__, seed=False)
    args = ap.parse_args()
    workdir = args.workdir or tempfile.mkdtemp(prefix="vhdsm-security-")
    res = Results("security")
    swift = None
    try:
        check_no_shell(res)
        shim = build_shim(workdir)
        ddir = os.path.join(workdir, "daemon")
        os.makedirs(ddir)
        os.chmod(workdir, 0o755)
        os.chmod(ddir, 0o755)  # uid 65534 must reach the socket to be refused
        d = Daemon(ddir, env={"VHDSM_STATE_DIR": os.path.join(ddir, "state")})
        d.start()
        try:
            if os.geteuid() == 0:
                check_socket(res, d)
            else:
                res.note("SKIP socket checks: not root (cannot act as uid 65534)")
            check_traversal(res, workdir, d)
        finally:
            d.stop()
        check_listener(res, workdir)
        swift = Swift()
        Credentials(res, workdir, swift, shim).run(None)
    finally:
        if swift:
            swift.stop()
        if not args.workdir and not res.failures:
            shutil.rmtree(workdir, ignore_errors=True)
    res.save()
    if res.failures:
        print("security: %d failures (work kept in %s)" % (len(res.failures), workdir))
    sys.exit(1 if res.failures else 0)


if __name__ == "__main__":
    main()
