"""Integration test of vhdsm-upload against a real Swift, checked with
python-swiftclient (an independent client) and Python's gzip/tarfile.

Starts its own Swift (scripts/saio.sh, private SAIO_ROOT, stopped at exit
and by saio.sh's watchdog should this process die), then:
  - tgz as SLO: swiftclient downloads it; tarfile finds exactly 0.vhd, equal
    to the image; the object's metadata carries the stream's MD5;
  - vhd (gzip) as DLO: downloads and gunzips to the image;
  - peak RSS of an upload stays under 64 MiB + its segment buffers;
  - a wrong key fails with exit code 3 (AUTH_FAILED), the key not printed.
Run by scripts/run-tests.sh with VHDSM_BUILD and VHDSM_SRC set.
"""
import gzip
import hashlib
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time

import swiftclient

SRC = os.environ.get('VHDSM_SRC') or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get('VHDSM_BUILD') or os.path.join(SRC, 'build')
CLI = os.path.join(BUILD, 'bin', 'vhdsm-upload')
SAIO = os.path.join(SRC, 'scripts', 'saio.sh')


def disk_like(size, seed):
    """Zeros, text and random runs of 64 KiB, like a VM disk."""
    rnd = random.Random(seed)
    out = io.BytesIO()
    words = [b'kernel ', b'block ', b'vhd ', b'\n', b'swift ', b'0x7f3a ']
    while out.tell() < size:
        n = min(65536, size - out.tell())
        kind = rnd.randrange(10)
        if kind < 4:
            out.write(b'\0' * n)
        elif kind < 7:
            text = b''.join(rnd.choice(words) for _ in range(n // 4))
            out.write((text * 2)[:n])
        else:
            out.write(rnd.randbytes(n))
    return out.getvalue()


class Swift:
    def __init__(self):
        self.root = tempfile.mkdtemp(prefix='vhdsm-saio-')
        self.env = dict(os.environ, SAIO_ROOT=self.root,
                        SAIO_WATCH_PID=str(os.getpid()),
                        SAIO_SLO_RATE_LIMIT_AFTER='1000000')
        subprocess.run([SAIO, 'start'], env=self.env, check=True)
        values = {}
        with open(os.path.join(self.root, 'saio.env')) as f:
            for line in f:
                k, _, v = line.strip()[len('export '):].partition('=')
                values[k] = v
        self.auth, self.user, self.key = (
            values['ST_AUTH'], values['ST_USER'], values['ST_KEY'])

    def stop(self):
        subprocess.run([SAIO, 'stop'], env=self.env)
        shutil.rmtree(self.root, ignore_errors=True)

    def conn(self):
        return swiftclient.client.Connection(
            authurl=self.auth, user=self.user, key=self.key, retries=1)


def upload(swift, image_path, *args, key=None, wrap=()):
    cmd = list(wrap) + [CLI, '--input', image_path, '--auth-url', swift.auth,
                        '--user', swift.user, '--json'] + list(args)
    if '--no-allow-insecure' in cmd:
        cmd.remove('--no-allow-insecure')
    else:
        cmd.append('--allow-insecure')  # the loopback Swift speaks http
    env = dict(os.environ, VHDSM_SWIFT_KEY=key or swift.key)
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    result = json.loads(p.stdout) if p.stdout.strip() else {}
    return p.returncode, result, p.stderr


def test_tgz_slo(swift, tmp):
    image = disk_like(20 << 20, 1)
    path = os.path.join(tmp, 'disk.vhd')
    with open(path, 'wb') as f:
        f.write(image)
    rc, r, err = upload(swift, path, '--format', 'tgz', '--container',
                        'images', '--object', 'vm1.tgz', '--segment-size',
                        '1M', '--content-type', 'application/x-gtar')
    assert rc == 0, err
    assert r['segments_total'] >= 4, r
    headers, body = swift.conn().get_object('images', 'vm1.tgz')
    assert len(body) == r['object_bytes']
    assert hashlib.md5(body).hexdigest() == r['object_md5']
    assert headers['x-object-meta-vhdsm-md5'] == r['object_md5']
    assert headers['x-static-large-object'] == 'True'
    assert headers['etag'].strip('"') == r['etag']
    assert headers['content-type'] == 'application/x-gtar'
    with tarfile.open(fileobj=io.BytesIO(body), mode='r:gz') as t:
        names = t.getnames()
        assert names == ['0.vhd'], names
        assert t.extractfile('0.vhd').read() == image


def test_vhd_dlo(swift, tmp):
    image = disk_like(12 << 20, 2)
    path = os.path.join(tmp, 'disk2.vhd')
    with open(path, 'wb') as f:
        f.write(image)
    rc, r, err = upload(swift, path, '--format', 'vhd', '--manifest', 'dlo',
                        '--container', 'images', '--object', 'vm2.vhd.gz',
                        '--segment-size', '1M', '--level', '1')
    assert rc == 0, err
    headers, body = swift.conn().get_object('images', 'vm2.vhd.gz')
    assert 'x-object-manifest' in headers
    assert gzip.decompress(body) == image
    segs = swift.conn().get_container(
        'images_segments', prefix=r['segment_prefix'])[1]
    assert len(segs) == r['segments_total'], (len(segs), r)


def test_peak_rss(swift, tmp):
    image = disk_like(64 << 20, 3)
    path = os.path.join(tmp, 'disk3.vhd')
    with open(path, 'wb') as f:
        f.write(image)
    del image
    # /usr/bin/time -v measures the CLI alone (a child forked from this
    # process would count this interpreter's pages in its peak).
    rss_file = os.path.join(tmp, 'rss')
    rc, r, err = upload(swift, path, '--container', 'images', '--object',
                        'vm3.vhd.gz', '--segment-size', '4M',
                        wrap=['/usr/bin/time', '-f', '%M', '-o', rss_file])
    assert rc == 0, err
    with open(rss_file) as f:
        peak_kib = int(f.read().split()[-1])
    assert r['segments_total'] >= 4, r
    limit_kib = (64 << 10) + 3 * (4 << 10)  # 64 MiB + 3 segment buffers
    print('  peak RSS of a 64 MiB upload in 4 MiB segments: %.1f MiB'
          % (peak_kib / 1024.0))
    assert peak_kib < limit_kib, peak_kib


def test_wrong_key(swift, tmp):
    path = os.path.join(tmp, 'small.vhd')
    with open(path, 'wb') as f:
        f.write(b'x' * 1000)
    rc, r, err = upload(swift, path, '--container', 'images', '--object',
                        'never', key='secret-wrong-key')
    assert rc == 3, (rc, err)
    assert r['status'] == 'AUTH_FAILED', r
    assert 'secret-wrong-key' not in err + json.dumps(r)
    try:
        swift.conn().head_object('images', 'never')
        raise AssertionError('object exists')
    except swiftclient.exceptions.ClientException as e:
        assert e.http_status == 404


def test_http_needs_allow_insecure(swift, tmp):
    path = os.path.join(tmp, 'small.vhd')
    with open(path, 'wb') as f:
        f.write(b'x' * 1000)
    rc, _, err = upload(swift, path, '--container', 'images', '--object', 'plain',
                        '--no-allow-insecure')
    assert rc == 1, (rc, err)
    assert '--allow-insecure' in err, err
    rc, _, err = upload(swift, path, '--container', 'images', '--object', 'plain')
    assert rc == 0, (rc, err)
    assert 'warning: insecure auth URL' in err, err


def main():
    if not os.access(CLI, os.X_OK):
        print('missing %s: build first' % CLI)
        return 1
    swift = Swift()
    tmp = tempfile.mkdtemp(prefix='vhdsm-upload-it-')
    passed = failed = 0
    try:
        for test in (test_tgz_slo, test_vhd_dlo, test_peak_rss,
                     test_wrong_key, test_http_needs_allow_insecure):
            t0 = time.time()
            try:
                test(swift, tmp)
                passed += 1
                print('PASS %s (%.1fs)' % (test.__name__, time.time() - t0))
            except Exception as e:  # report and go on with the others
                failed += 1
                print('FAIL %s: %r' % (test.__name__, e))
    finally:
        swift.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print('%d passed, %d failed' % (passed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
