#!/usr/bin/python3
"""The XML-RPC exec transport as xapi uses it.

Runs build/tests/xmlrpc-test-server in exec mode (the request is argv[1],
or stdin when there is no argument), the way xapi runs an SM driver, and
checks: exactly one <methodResponse> on stdout, exit status 0 for results
and faults alike, diagnostics only on stderr, xapi's compact requests and
CPython's requests both understood, requests up to the kernel's 128 KiB
argument limit, SMAPIv1 fault codes (143 for a bad request, 38 for an
unknown method), and hostile input refused without harm.
Environment: VHDSM_BUILD (default ./build).
"""
import os
import random
import string
import subprocess
import sys
import threading
import time
import unittest
import xmlrpc.client

BUILD = os.environ.get("VHDSM_BUILD", os.path.join(os.getcwd(), "build"))
DRIVER = os.path.join(BUILD, "tests", "xmlrpc-test-server")

# xapi-project/sm drivers/SRTest.txt
SRTEST = ("<methodCall><methodName>sr_get_driver_info</methodName><params>"
          "<param><value><struct><member><name>host_ref</name><value>"
          "OpaqueRef:NULL</value></member><member><name>command</name><value>"
          "sr_get_driver_info</value></member><member><name>args</name><value>"
          "<array><data/></array></value></member><member><name>device_config"
          "</name><value><struct/></value></member></struct></value></param>"
          "</params></methodCall>")


def run(args=None, stdin=b"", timeout=30):
    argv = [DRIVER] + ([] if args is None else list(args))
    p = subprocess.run(argv, input=stdin, capture_output=True,
                       timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def call(method, params, via_stdin=False):
    request = xmlrpc.client.dumps(params, method, allow_none=True)
    if via_stdin:
        return run([], stdin=request.encode())
    return run([request])


class ExecTest(unittest.TestCase):
    def assert_one_response(self, rc, out):
        self.assertEqual(rc, 0)
        self.assertTrue(out.startswith(b"<methodResponse>"), out[:100])
        self.assertTrue(out.endswith(b"</methodResponse>"), out[-100:])
        self.assertEqual(out.count(b"<methodResponse>"), 1)

    def result(self, rc, out):
        self.assert_one_response(rc, out)
        (value,), method = xmlrpc.client.loads(out, use_builtin_types=True)
        self.assertIsNone(method)
        return value

    def fault(self, rc, out):
        self.assert_one_response(rc, out)
        with self.assertRaises(xmlrpc.client.Fault) as cm:
            xmlrpc.client.loads(out)
        return cm.exception.faultCode, cm.exception.faultString

    def test_validator_methods_via_argv_and_stdin(self):
        rng = random.Random()
        for via_stdin in (False, True):
            n = rng.randint(-100, 100)
            self.assertEqual(
                self.result(*call("validator1.simpleStructReturnTest", (n,),
                                  via_stdin)[:2]),
                {"times10": 10 * n, "times100": 100 * n, "times1000": 1000 * n})
            words = ["".join(rng.choice(string.ascii_letters)
                             for _ in range(10)) for _ in range(150)]
            self.assertEqual(
                self.result(*call("validator1.moderateSizeArrayCheck",
                                  (words,), via_stdin)[:2]),
                words[0] + words[-1])

    def test_nil_result_is_exactly_what_xapi_wants(self):
        rc, out, err = call("ping", ())
        self.assertEqual(rc, 0)
        self.assertEqual(out, b"<methodResponse><params><param><value><nil/>"
                              b"</value></param></params></methodResponse>")
        self.assertEqual(err, b"")

    def test_xapi_compact_request(self):
        # sr_get_driver_info is not a method of the test server: fault 38,
        # exactly as xapi reads faults, on stdout; the log on stderr.
        rc, out, err = run([SRTEST])
        self.assertEqual(out,
                         b"<methodResponse><fault><value><struct><member><name>"
                         b"faultCode</name><value><int>38</int></value>"
                         b"</member><member><name>faultString</name><value>"
                         b"<string>The requested method is not supported/"
                         b"implemented [opterr=sr_get_driver_info]</string>"
                         b"</value></member></struct></value></fault>"
                         b"</methodResponse>")
        self.assertEqual(rc, 0)
        self.assertIn(b"sr_get_driver_info: fault 38", err)

    def test_wide_characters_survive(self):
        # The params of xapi-project/sm tests/test_SRCommand.py
        # test_parse_handles_wide_chars, echoed back.
        params = {
            "host_ref": "OpaqueRef:133c7c46-f4d9-3695-83c4-bf8574b89fb9",
            "command": "vdi_create",
            "args": ["10737418240", "\u4e2d\u6587\u673a\u5668 0",
                     "Created by template provisioner", "", "false",
                     "19700101T00:00:00Z", "", "false"],
            "device_config": {"SRmaster": "true",
                              "device": "/dev/disk/by-id/scsi-3600508b1001c25"
                                        "e9eea8ead175fd83fb-part3"},
            "session_ref": "OpaqueRef:c2c628b6-93c3-5e29-00cf-4f15a34e1555",
            "sr_ref": "OpaqueRef:c523a79a-8a60-121c-832e-d507586cb117",
            "vdi_type": "system",
            "sr_uuid": "13c4384e-897b-e745-6b3e-9a89c06537be",
            "vdi_sm_config": {},
            "subtask_of": "DummyRef:|0c533c65-d321-59c2-f540c-e66efbe3b1b7|"
                          "VDI.create",
        }
        self.assertEqual(
            self.result(*call("validator1.echoStructTest", (params,))[:2]),
            params)

    def test_argument_of_the_kernel_maximum_size(self):
        # MAX_ARG_STRLEN = 128 KiB including the terminating NUL.
        head = ("<methodCall><methodName>validator1.moderateSizeArrayCheck"
                "</methodName><params><param><value><array><data><value>")
        tail = "</value><value>end</value></data></array></value></param>" \
               "</params></methodCall>"
        payload = "x" * (131071 - len(head) - len(tail))
        request = head + payload + tail
        self.assertEqual(len(request), 131071)
        rc, out, _ = run([request])
        self.assertEqual(self.result(rc, out), payload + "end")

    def test_bad_invocations_are_faults_with_exit_0(self):
        code, message = self.fault(*run(["<a/>", "extra"])[:2])
        self.assertEqual(code, 143)
        self.assertIn("Failed to parse the request", message)
        code, _ = self.fault(*run([], stdin=b"")[:2])
        self.assertEqual(code, 143)
        code, message = self.fault(*call("validator1.easyStructTest", (1,))[:2])
        self.assertEqual(code, 143)
        self.assertIn("param 1 must be struct, not int", message)

    def test_hostile_inputs(self):
        with open("/etc/passwd", "rb") as f:
            passwd_line = f.readline().strip()
        bomb = ['<!ENTITY a "aaaaaaaaaa">'] + [
            '<!ENTITY %s "%s">' % (c, ("&%s;" % p) * 10)
            for p, c in zip("abcdefghi", "bcdefghij")]
        cases = [
            '<!DOCTYPE m [%s]><methodCall><methodName>ping</methodName>'
            '<params><param><value>&j;</value></param></params></methodCall>'
            % "".join(bomb),
            '<!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            '<methodCall><methodName>validator1.echoStructTest</methodName>'
            '<params><param><value><struct><member><name>a</name><value>&x;'
            '</value></member></struct></value></param></params></methodCall>',
            "<methodCall><methodName>ping</methodName><params><param>"
            + "<value><array><data>" * 100000,
            b"<methodCall><methodName>ping\xff</methodName></methodCall>",
            SRTEST[:-20],
            "<methodResponse><params/></methodResponse>",
        ]
        for request in cases:
            if isinstance(request, str):
                request = request.encode()
            t0 = time.monotonic()
            rc, out, _ = run([], stdin=request)
            self.assertLess(time.monotonic() - t0, 5)
            code, message = self.fault(rc, out)
            self.assertEqual(code, 143, message)
            self.assertNotIn(passwd_line, out)
            self.assertNotIn(b"root:", out)

    def test_gigabyte_on_stdin_is_refused_early(self):
        p = subprocess.Popen([DRIVER], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        sent = [0]

        def feed():
            chunk = b" " * (1 << 20)
            try:
                while sent[0] < (1 << 30):
                    p.stdin.write(chunk)
                    sent[0] += len(chunk)
            except (BrokenPipeError, ValueError):
                pass
            try:
                p.stdin.close()
            except BrokenPipeError:
                pass
        t = threading.Thread(target=feed)
        t0 = time.monotonic()
        t.start()
        out = p.stdout.read()
        p.stderr.read()
        rc = p.wait(timeout=30)
        t.join()
        p.stdout.close()
        p.stderr.close()
        code, message = self.fault(rc, out)
        self.assertEqual(code, 143)
        self.assertIn("larger than", message)
        self.assertLess(sent[0], 64 << 20)
        self.assertLess(time.monotonic() - t0, 10)


if __name__ == "__main__":
    if not os.access(DRIVER, os.X_OK):
        sys.exit("missing %s (run make)" % DRIVER)
    unittest.main(verbosity=1)
