#!/usr/bin/python3
"""The XML-RPC HTTP transport against real clients.

Starts build/tests/xmlrpc-test-server on a loopback port and a Unix socket
in a temporary directory, then:
  - runs the eight validator1 methods with random data, as UserLand's
    validator did, through CPython's xmlrpc.client (allow_none) over TCP and
    over the Unix socket, directly and through system.multicall;
  - drives the server with the `xmlrpc` command of xmlrpc-c
    (xmlrpc-api-utils), a second independent client;
  - checks the HTTP contract (200/405/415/413, keep-alive, socket mode);
  - sends hostile bodies (billion laughs, external entity, 100,000-deep
    nesting, 1 GiB, invalid UTF-8, truncated, wrong root), asserting each
    reply and that the server still answers afterwards;
  - stops the server with SIGTERM and checks it exits 0 and removes its
    socket.
Environment: VHDSM_BUILD (default ./build).
"""
import datetime
import http.client
import os
import random
import shutil
import signal
import socket
import stat
import string
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import xmlrpc.client

from unix_xmlrpc import UnixTransport

BUILD = os.environ.get("VHDSM_BUILD", os.path.join(os.getcwd(), "build"))
SERVER = os.path.join(BUILD, "tests", "xmlrpc-test-server")
XMLRPC_CLI = shutil.which("xmlrpc")
PARSE_ERROR = -32700  # the test server uses the interoperability codes


def rand_word(rng, lo=8, hi=12):
    return "".join(rng.choice(string.ascii_letters)
                   for _ in range(rng.randint(lo, hi)))


def rand_int(rng):
    return rng.randint(-100, 100)


class Server:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="xmlrpc-it-")
        self.socket = os.path.join(self.dir, "xmlrpc.sock")
        self.stderr = open(os.path.join(self.dir, "stderr"), "w+b")
        self.proc = subprocess.Popen(
            [SERVER, "--port", "0", "--socket", self.socket, "--threads", "4"],
            stdout=subprocess.PIPE, stderr=self.stderr)
        line = self._readline(10)
        if not line.startswith(b"READY tcp_port="):
            self.close()
            raise RuntimeError("server did not start: %r" % line)
        self.port = int(line.split(b"=")[1])
        self.url = "http://127.0.0.1:%d/RPC2" % self.port

    def _readline(self, timeout):
        result = []
        t = threading.Thread(target=lambda: result.append(
            self.proc.stdout.readline()))
        t.daemon = True
        t.start()
        t.join(timeout)
        return result[0] if result else b""

    def proxy(self, unix=False):
        if unix:
            return xmlrpc.client.ServerProxy(
                "http://localhost/RPC2", transport=UnixTransport(self.socket),
                allow_none=True)
        return xmlrpc.client.ServerProxy(self.url, allow_none=True)

    def post(self, body, content_type="text/xml", method="POST",
             headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        hdrs = {"Content-Type": content_type}
        hdrs.update(headers or {})
        conn.request(method, "/RPC2", body=body, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, dict(resp.getheaders()), data

    def peak_rss_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        return 0

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.stderr.close()
        shutil.rmtree(self.dir, ignore_errors=True)


SRV = None


def setUpModule():
    global SRV
    SRV = Server()


def tearDownModule():
    if SRV is not None:
        SRV.close()


def validator_suite(rng):
    """(method, params, expected result) triples with fresh random data."""
    calls = []
    structs = [{"moe": rand_int(rng), "larry": rand_int(rng),
                "curly": rand_int(rng)} for _ in range(rng.randint(1, 20))]
    calls.append(("validator1.arrayOfStructsTest", (structs,),
                  sum(s["curly"] for s in structs)))
    entity_string = "".join(rng.choice("<>&'\"abcxyz")
                            for _ in range(rng.randint(10, 60)))
    calls.append(("validator1.countTheEntities", (entity_string,), {
        "ctLeftAngleBrackets": entity_string.count("<"),
        "ctRightAngleBrackets": entity_string.count(">"),
        "ctAmpersands": entity_string.count("&"),
        "ctApostrophes": entity_string.count("'"),
        "ctQuotes": entity_string.count('"')}))
    s = {"moe": rand_int(rng), "larry": rand_int(rng), "curly": rand_int(rng)}
    calls.append(("validator1.easyStructTest", (s,),
                  s["moe"] + s["larry"] + s["curly"]))
    echo = {"substruct%d" % i: {"variable1": rand_int(rng),
                                "variable2": rand_word(rng),
                                "nested": [rand_int(rng), rand_word(rng),
                                           rng.random(), True, None]}
            for i in range(rng.randint(1, 5))}
    echo["when"] = xmlrpc.client.DateTime("20000401T12:34:56")
    echo["blob"] = xmlrpc.client.Binary(bytes(rng.getrandbits(8)
                                              for _ in range(50)))
    calls.append(("validator1.echoStructTest", (echo,), echo))
    many = (rand_int(rng), rng.choice([True, False]), rand_word(rng),
            rng.uniform(-1e6, 1e6),
            xmlrpc.client.DateTime(datetime.datetime(
                rng.randint(1970, 2037), rng.randint(1, 12), rng.randint(1, 28),
                rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59))),
            xmlrpc.client.Binary(rand_word(rng).encode()))
    calls.append(("validator1.manyTypesTest", many, list(many)))
    words = [rand_word(rng) for _ in range(rng.randint(100, 200))]
    calls.append(("validator1.moderateSizeArrayCheck", (words,),
                  words[0] + words[-1]))
    calendar = {}
    for year in ("1999", "2000", "2001"):
        calendar[year] = {}
        for month in ("03", "04", "05"):
            calendar[year][month] = {}
            for day in ("01", "02", "03", "04", "05"):
                calendar[year][month][day] = {
                    "moe": rand_int(rng), "larry": rand_int(rng),
                    "curly": rand_int(rng)}
    target = calendar["2000"]["04"]["01"]
    calls.append(("validator1.nestedStructTest", (calendar,),
                  target["moe"] + target["larry"] + target["curly"]))
    n = rand_int(rng)
    calls.append(("validator1.simpleStructReturnTest", (n,),
                  {"times10": n * 10, "times100": n * 100,
                   "times1000": n * 1000}))
    return calls


class ValidatorTest(unittest.TestCase):
    def run_suite(self, proxy, rounds):
        rng = random.Random(int(time.time()))
        for _ in range(rounds):
            for method, params, expected in validator_suite(rng):
                got = getattr(proxy, method)(*params)
                self.assertEqual(got, expected, method)

    def test_validator1_over_tcp(self):
        with SRV.proxy() as proxy:
            self.run_suite(proxy, 10)

    def test_validator1_over_unix_socket(self):
        with SRV.proxy(unix=True) as proxy:
            self.run_suite(proxy, 10)

    def test_validator1_through_multicall(self):
        rng = random.Random(20000401)
        for unix in (False, True):
            calls = validator_suite(rng)
            with SRV.proxy(unix=unix) as proxy:
                multi = xmlrpc.client.MultiCall(proxy)
                for method, params, _ in calls:
                    getattr(multi, method)(*params)
                multi.nope()  # a fault among the results
                results = multi().results
            self.assertEqual(len(results), len(calls) + 1)
            for (method, _, expected), got in zip(calls, results):
                self.assertEqual(got, [expected], method)
            self.assertEqual(results[-1]["faultCode"], -32601)

    def test_introspection(self):
        with SRV.proxy() as proxy:
            self.check_introspection(proxy)

    def check_introspection(self, proxy):
        names = proxy.system.listMethods()
        for m in ("arrayOfStructsTest", "countTheEntities", "easyStructTest",
                  "echoStructTest", "manyTypesTest", "moderateSizeArrayCheck",
                  "nestedStructTest", "simpleStructReturnTest"):
            self.assertIn("validator1." + m, names)
        self.assertEqual(proxy.system.methodSignature(
            "validator1.easyStructTest"), [["int", "struct"]])
        self.assertIn("moe", proxy.system.methodHelp(
            "validator1.easyStructTest"))
        self.assertIsNone(proxy.ping())

    def test_faults_reach_the_client(self):
        with SRV.proxy() as proxy:
            self.check_faults(proxy)

    def check_faults(self, proxy):
        with self.assertRaises(xmlrpc.client.Fault) as cm:
            proxy.validator1.easyStructTest(1)
        self.assertEqual(cm.exception.faultCode, -32602)
        self.assertIn("param 1 must be struct, not int",
                      cm.exception.faultString)
        with self.assertRaises(xmlrpc.client.Fault) as cm:
            proxy.no.such.method()
        self.assertEqual(cm.exception.faultCode, -32601)


@unittest.skipIf(XMLRPC_CLI is None, "xmlrpc (xmlrpc-api-utils) not installed")
class XmlrpcCTest(unittest.TestCase):
    """The xmlrpc-c command line client; it sends <i4>, <i8>, <string> and
    <nil/> and cannot build arrays or structs."""

    def cli(self, *args):
        p = subprocess.run([XMLRPC_CLI, SRV.url] + list(args),
                           capture_output=True, text=True, timeout=30,
                           env=dict(os.environ, LANG="C.UTF-8"))
        return p.returncode, p.stdout + p.stderr

    def test_simple_struct_return(self):
        rng = random.Random()
        for _ in range(5):
            n = rand_int(rng)
            rc, out = self.cli("validator1.simpleStructReturnTest", "i/%d" % n)
            self.assertEqual(rc, 0, out)
            for key, factor in (("times10", 10), ("times100", 100),
                                ("times1000", 1000)):
                self.assertIn("Key:   String: '%s'\n  Value: Integer: %d"
                              % (key, n * factor), out)

    def test_i8_input(self):
        rc, out = self.cli("validator1.simpleStructReturnTest", "I/-7")
        self.assertEqual(rc, 0, out)
        self.assertIn("Value: Integer: -7000", out)

    def test_count_the_entities(self):
        text = "<<>&&&'\"\"x"
        rc, out = self.cli("validator1.countTheEntities", "s/" + text)
        self.assertEqual(rc, 0, out)
        for key, n in (("ctLeftAngleBrackets", 2), ("ctRightAngleBrackets", 1),
                       ("ctAmpersands", 3), ("ctApostrophes", 1),
                       ("ctQuotes", 2)):
            self.assertIn("Key:   String: '%s'\n  Value: Integer: %d"
                          % (key, n), out)

    def test_nil_and_introspection(self):
        rc, out = self.cli("ping")
        self.assertEqual(rc, 0, out)
        self.assertIn("Nil", out)
        rc, out = self.cli("system.methodHelp",
                           "s/validator1.moderateSizeArrayCheck")
        self.assertEqual(rc, 0, out)
        self.assertIn("first and the last string", out)

    def test_fault(self):
        rc, out = self.cli("validator1.easyStructTest", "i/1")
        self.assertNotEqual(rc, 0)
        self.assertIn("(XML-RPC fault code -32602)", out)


def fault_of(body):
    try:
        xmlrpc.client.loads(body)
    except xmlrpc.client.Fault as f:
        return f.faultCode, f.faultString
    raise AssertionError("not a fault: %r" % body[:200])


class HttpContractTest(unittest.TestCase):
    def test_ok_is_200_text_xml(self):
        body = xmlrpc.client.dumps((), "ping")
        status, headers, data = SRV.post(body)
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "text/xml")
        self.assertEqual(data, b"<methodResponse><params><param><value><nil/>"
                               b"</value></param></params></methodResponse>")

    def test_wrong_method_and_type(self):
        status, headers, _ = SRV.post(None, method="GET")
        self.assertEqual(status, 405)
        self.assertEqual(headers["Allow"], "POST")
        status, _, _ = SRV.post(xmlrpc.client.dumps((), "ping"),
                                content_type="application/json")
        self.assertEqual(status, 415)

    def test_keep_alive(self):
        conn = http.client.HTTPConnection("127.0.0.1", SRV.port, timeout=30)
        socks = set()
        for i in range(5):
            conn.request("POST", "/RPC2",
                         body=xmlrpc.client.dumps((i,),
                                                  "validator1.simpleStructReturnTest"),
                         headers={"Content-Type": "text/xml"})
            resp = conn.getresponse()
            self.assertEqual(resp.status, 200)
            (result,), _ = xmlrpc.client.loads(resp.read())
            self.assertEqual(result["times10"], i * 10)
            socks.add(id(conn.sock))
        conn.close()
        self.assertEqual(len(socks), 1)

    def test_socket_is_private(self):
        mode = os.stat(SRV.socket).st_mode
        self.assertTrue(stat.S_ISSOCK(mode))
        self.assertEqual(stat.S_IMODE(mode), 0o600)


class HostileInputTest(unittest.TestCase):
    def setUp(self):
        with open("/etc/passwd") as f:
            self.passwd_line = f.readline().strip()

    def tearDown(self):
        # The server still answers an ordinary call after every attack.
        with SRV.proxy() as proxy:
            self.assertEqual(proxy.validator1.simpleStructReturnTest(3),
                             {"times10": 30, "times100": 300,
                              "times1000": 3000})

    def assert_parse_fault(self, body, expect_in_message=None):
        t0 = time.monotonic()
        status, _, data = SRV.post(body)
        self.assertLess(time.monotonic() - t0, 5)
        self.assertEqual(status, 200)
        code, message = fault_of(data)
        self.assertEqual(code, PARSE_ERROR, message)
        if expect_in_message:
            self.assertIn(expect_in_message, message)
        self.assertNotIn(self.passwd_line.encode(), data)
        self.assertNotIn(b"root:", data)
        return message

    def test_billion_laughs(self):
        ents = ['<!ENTITY lol "lol">']
        for i in range(1, 10):
            prev = "lol" if i == 1 else "lol%d" % (i - 1)
            ents.append('<!ENTITY lol%d "%s">' % (i, ("&%s;" % prev) * 10))
        body = ('<?xml version="1.0"?><!DOCTYPE lolz [%s]><methodCall>'
                '<methodName>validator1.countTheEntities</methodName><params>'
                '<param><value>&lol9;</value></param></params></methodCall>'
                % "".join(ents))
        self.assert_parse_fault(body, "DOCTYPE")

    def test_external_entity(self):
        for body in (
                '<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM '
                '"file:///etc/passwd">]><methodCall><methodName>'
                'validator1.countTheEntities</methodName><params><param>'
                '<value>&x;</value></param></params></methodCall>',
                '<methodCall><methodName>validator1.countTheEntities'
                '</methodName><params><param><value>&x;</value></param>'
                '</params></methodCall>'):
            self.assert_parse_fault(body)

    def test_deep_nesting(self):
        n = 100000
        body = ("<methodCall><methodName>validator1.echoStructTest"
                "</methodName><params><param>"
                + "<value><array><data>" * n + "</data></array></value>" * n
                + "</param></params></methodCall>")
        self.assert_parse_fault(body, "too deep")

    def test_gigabyte_body(self):
        # Announce 1 GiB and keep streaming it; the server must answer 413
        # from the headers without taking (or buffering) the body.
        gib = 1 << 30
        rss_before = SRV.peak_rss_kib()
        sock = socket.create_connection(("127.0.0.1", SRV.port))
        sock.sendall(b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml"
                     b"\r\nContent-Length: %d\r\n\r\n" % gib)
        sent = [0]

        def stream():
            chunk = b"<" * 65536
            try:
                while sent[0] < gib:
                    sock.sendall(chunk)
                    sent[0] += len(chunk)
            except OSError:
                pass
        t = threading.Thread(target=stream)
        t.start()
        sock.settimeout(10)
        reply = b""
        try:
            while b"\r\n\r\n" not in reply:
                more = sock.recv(4096)
                if not more:
                    break
                reply += more
        except ConnectionResetError:
            pass  # the server closed on the unread body; the reply came first
        finally:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # stops the sender
            except OSError:
                pass  # already reset by the server
            t.join()
            sock.close()
        self.assertTrue(reply.startswith(b"HTTP/1.1 413"), reply)
        self.assertLess(sent[0], 64 << 20)
        # Memory did not grow by anything like the body size.
        self.assertLess(SRV.peak_rss_kib() - rss_before, 64 * 1024)

    def test_invalid_utf8(self):
        body = (b"<methodCall><methodName>validator1.countTheEntities"
                b"</methodName><params><param><value>\xff\xfe\xc3("
                b"</value></param></params></methodCall>")
        self.assert_parse_fault(body, "UTF-8")

    def test_truncated(self):
        full = xmlrpc.client.dumps(({"moe": 1, "larry": 2, "curly": 3},),
                                   "validator1.easyStructTest")
        for cut in (1, len(full) // 3, len(full) // 2, len(full) - 2):
            self.assert_parse_fault(full[:cut])

    def test_wrong_root(self):
        self.assert_parse_fault(
            xmlrpc.client.dumps((1,), methodresponse=True), "methodCall")
        self.assert_parse_fault("<html><body/></html>", "methodCall")


class ZzzShutdownTest(unittest.TestCase):
    """Runs last (alphabetical order): stops the shared server."""

    def test_sigterm_stops_cleanly(self):
        self.assertTrue(os.path.exists(SRV.socket))
        SRV.proc.send_signal(signal.SIGTERM)
        self.assertEqual(SRV.proc.wait(timeout=10), 0)
        self.assertFalse(os.path.exists(SRV.socket))
        SRV.stderr.seek(0)
        log = SRV.stderr.read().decode(errors="replace")
        self.assertNotIn("AddressSanitizer", log)


if __name__ == "__main__":
    if not os.access(SERVER, os.X_OK):
        sys.exit("missing %s (run make)" % SERVER)
    unittest.main(verbosity=1)
