"""Runs one stock Swift server with a private swift.conf (saio.sh's launcher).

Swift 2.30 reads swift.conf only from a compiled-in path
(swift.common.utils.SWIFT_CONF_FILE). set_swift_dir() repoints it and
re-reads the hash prefix/suffix; constraints and storage policies are parsed
at import time, so they are reloaded afterwards. Then the packaged entry point
(run_wsgi) runs exactly as swift-<type>-server would, with verbose=True so
that log lines go to stderr (saio.sh sends it to $SAIO_ROOT/log/<name>.log).

usage: launch.py SWIFT_DIR SERVER_TYPE CONF_FILE
"""
import sys

from swift.common import utils

swift_dir, server_type, conf_file = sys.argv[1:4]
utils.set_swift_dir(swift_dir)
from swift.common import constraints, storage_policy  # noqa: E402
constraints.reload_constraints()
storage_policy.reload_storage_policies()
from swift.common.wsgi import run_wsgi  # noqa: E402

sys.exit(run_wsgi(conf_file, server_type + '-server', verbose=True))
