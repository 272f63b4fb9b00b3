"""A small Keystone stand-in for the upload tests (v2.0 and v3 token APIs).

Debian 12's Keystone no longer serves v2.0 and tempauth speaks only v1.0, so
the tests of v2.0 (password and Rackspace RAX-KSKEY API key) and v3 auth run
against this: on 127.0.0.1, port chosen by the OS and written to
--port-file. Accepted credentials: user "tester", password or API key
"testing", tenant/project (if any) "test". On success it performs a real
v1.0 auth against the test Swift (--swift-auth, tempauth test:tester) and
returns that token, with a service catalog whose object-store endpoints
point at the real storage URL:

  region ORD:  publicURL / interface public   = the storage URL
               internalURL / interface internal = the storage URL
  region DFW:  every interface = http://127.0.0.1:9/v1/AUTH_nowhere
               (a closed port: choosing it must fail)

The DFW entry comes first, so a client that ignores the region fails.
Wrong credentials: 401. GET /stats: {"tokens": N} issued so far.
With --tls-cert/--tls-key it serves HTTPS (TLS verification tests).
"""
import argparse
import json
import os
import ssl
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

USER, SECRET, TENANT = 'tester', 'testing', 'test'
NOWHERE = 'http://127.0.0.1:9/v1/AUTH_nowhere'


def swift_token(auth_url):
    req = urllib.request.Request(auth_url, headers={
        'X-Auth-User': 'test:tester', 'X-Auth-Key': 'testing'})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.headers['X-Auth-Token'], resp.headers['X-Storage-Url']


class Handler(BaseHTTPRequestHandler):
    tokens = 0

    def log_message(self, fmt, *args):  # quiet: the tests read stderr
        pass

    def reply(self, status, body, headers=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == '/stats':
            return self.reply(200, {'tokens': Handler.tokens})
        self.reply(404, {'error': 'not found'})

    def do_POST(self):
        length = int(self.headers.get('Content-Length') or 0)
        try:
            body = json.loads(self.rfile.read(length) or b'{}')
        except ValueError:
            return self.reply(400, {'error': 'bad json'})
        if self.path.rstrip('/') == '/v2.0/tokens':
            return self.v2(body.get('auth', {}))
        if self.path.rstrip('/') == '/v3/auth/tokens':
            return self.v3(body.get('auth', {}))
        self.reply(404, {'error': 'not found'})

    def v2(self, auth):
        if 'RAX-KSKEY:apiKeyCredentials' in auth:
            c = auth['RAX-KSKEY:apiKeyCredentials']
            ok = c.get('username') == USER and c.get('apiKey') == SECRET
        else:
            c = auth.get('passwordCredentials', {})
            ok = c.get('username') == USER and c.get('password') == SECRET
        ok = ok and auth.get('tenantName', TENANT) == TENANT
        if not ok:
            return self.reply(401, {'unauthorized': {'code': 401}})
        token, url = swift_token(self.server.swift_auth)
        Handler.tokens += 1
        endpoints = [
            {'region': 'DFW', 'publicURL': NOWHERE, 'internalURL': NOWHERE},
            {'region': 'ORD', 'publicURL': url, 'internalURL': url},
        ]
        self.reply(200, {'access': {
            'token': {'id': token, 'expires': '2099-01-01T00:00:00Z',
                      'tenant': {'id': 'AUTH_test', 'name': TENANT}},
            'serviceCatalog': [
                {'type': 'rax:object-cdn', 'name': 'cloudFilesCDN',
                 'endpoints': [{'region': 'ORD', 'publicURL': NOWHERE}]},
                {'type': 'object-store', 'name': 'cloudFiles',
                 'endpoints': endpoints},
            ],
            'user': {'name': USER}}})

    def v3(self, auth):
        ident = auth.get('identity', {})
        user = ident.get('password', {}).get('user', {})
        ok = ('password' in ident.get('methods', []) and
              user.get('name') == USER and user.get('password') == SECRET and
              user.get('domain', {}).get('name') == 'Default')
        project = auth.get('scope', {}).get('project')
        if project is not None:
            ok = ok and project.get('name') == TENANT
        if not ok:
            return self.reply(401, {'error': {'code': 401}})
        token, url = swift_token(self.server.swift_auth)
        Handler.tokens += 1
        endpoints = []
        for region, target in (('DFW', NOWHERE), ('ORD', url)):
            for interface in ('admin', 'internal', 'public'):
                endpoints.append({'interface': interface, 'region': region,
                                  'region_id': region, 'url': target})
        self.reply(201, {'token': {
            'methods': ['password'], 'expires_at': '2099-01-01T00:00:00Z',
            'catalog': [
                {'type': 'identity', 'endpoints': []},
                {'type': 'object-store', 'name': 'swift',
                 'endpoints': endpoints},
            ]}}, headers=[('X-Subject-Token', token)])


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--port-file', required=True)
    p.add_argument('--swift-auth', required=True)
    p.add_argument('--tls-cert')
    p.add_argument('--tls-key')
    args = p.parse_args()
    server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    server.swift_auth = args.swift_auth
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    tmp = args.port_file + '.tmp'
    with open(tmp, 'w') as f:
        f.write('%d\n' % server.server_address[1])
    os.rename(tmp, args.port_file)
    server.serve_forever()


if __name__ == '__main__':
    main()
