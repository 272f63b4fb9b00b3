#!/usr/bin/python3
"""The Python baseline for bench/xmlrpc_bench.sh: CPython's xmlrpc.server
serving "ping" (returns None) on 127.0.0.1, made as fast as the standard
library allows for 4 concurrent keep-alive clients: a thread per connection
(ThreadingMixIn) and HTTP/1.1 so that connections are kept alive.
Prints "READY tcp_port=<port>" once listening; runs until killed."""
import socketserver
import sys
from xmlrpc.server import SimpleXMLRPCRequestHandler, SimpleXMLRPCServer


class Handler(SimpleXMLRPCRequestHandler):
    protocol_version = "HTTP/1.1"


class Server(socketserver.ThreadingMixIn, SimpleXMLRPCServer):
    daemon_threads = True


def main():
    server = Server(("127.0.0.1", 0), requestHandler=Handler,
                    allow_none=True, logRequests=False)
    server.register_function(lambda: None, "ping")
    print("READY tcp_port=%d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
