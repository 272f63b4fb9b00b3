"""Fault injection for the test Swift's proxy (a WSGI filter; tests only).

saio.sh puts this filter into the proxy pipeline right after proxy-logging.
It does nothing until a test writes a JSON spec to $SAIO_ROOT/run/fault.json
(`saio.sh fault SPEC`); each matching request then gets the fault and bumps
the counter in run/fault.hits. Spec fields (all optional):

  status       int    answer this HTTP status instead of forwarding
  retry_after  str    add a Retry-After header to that answer
  delay        float  sleep this many seconds first (eventlet, non-blocking)
  bad_etag     bool   replace the request's ETag with a wrong MD5, so that
                      the real object server answers 422
  methods      list   only these methods (default: all)
  path_contains str   only paths containing this (default: all but /auth)
  count        int    only the next N matching requests, then the spec is
                      removed (default: until `saio.sh fault clear`)
"""
import json
import os

import eventlet


class FaultFilter(object):
    def __init__(self, app, conf):
        self.app = app
        self.spec_path = conf['fault_file']
        self.hits_path = self.spec_path[:-len('.json')] + '.hits'

    def _take(self, env):
        try:
            with open(self.spec_path) as f:
                spec = json.load(f)
        except (OSError, ValueError):
            return None
        path = env.get('PATH_INFO', '')
        if 'path_contains' in spec:
            if spec['path_contains'] not in path:
                return None
        elif path.startswith('/auth'):
            return None
        methods = spec.get('methods')
        if methods and env.get('REQUEST_METHOD') not in methods:
            return None
        if 'count' in spec:
            spec['count'] -= 1
            if spec['count'] <= 0:
                os.unlink(self.spec_path)
            else:
                tmp = self.spec_path + '.tmp'
                with open(tmp, 'w') as f:
                    json.dump(spec, f)
                os.rename(tmp, self.spec_path)
        try:
            with open(self.hits_path) as f:
                hits = int(f.read() or 0)
        except (OSError, ValueError):
            hits = 0
        with open(self.hits_path, 'w') as f:
            f.write(str(hits + 1))
        return spec

    def __call__(self, env, start_response):
        spec = self._take(env)
        if spec is None:
            return self.app(env, start_response)
        if spec.get('delay'):
            eventlet.sleep(float(spec['delay']))
        if spec.get('bad_etag'):
            env['HTTP_ETAG'] = 'badbadbadbadbadbadbadbadbadbad00'
        status = spec.get('status')
        if not status:
            return self.app(env, start_response)
        body = ('injected fault %d\n' % status).encode()
        headers = [('Content-Type', 'text/plain'),
                   ('Content-Length', str(len(body)))]
        if spec.get('retry_after'):
            headers.append(('Retry-After', str(spec['retry_after'])))
        start_response('%d Injected Fault' % status, headers)
        return [body]


def filter_factory(global_conf, **local_conf):
    conf = dict(global_conf)
    conf.update(local_conf)
    return lambda app: FaultFilter(app, conf)
