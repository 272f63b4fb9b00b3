"""xmlrpc.client over a Unix socket (vhdsmd's, the xapi simulator's): the
one transport every test and the reliability harness use.

    proxy = xmlrpc.client.ServerProxy("http://localhost/",
                                      transport=UnixTransport(path))

One kept-alive connection per transport, closed with the proxy
(`proxy("close")()` or `with proxy:`). `timeout` (seconds, None: none)
bounds each request: a slower answer raises socket.timeout.
"""
import http.client
import socket
import xmlrpc.client


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=None):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


class UnixTransport(xmlrpc.client.Transport):
    def __init__(self, path, timeout=None):
        super().__init__()
        self.path = path
        self.timeout = timeout

    def make_connection(self, host):
        if self._connection[1] is None or self._connection[0] != host:
            self._connection = (host, UnixHTTPConnection(self.path, self.timeout))
        return self._connection[1]
