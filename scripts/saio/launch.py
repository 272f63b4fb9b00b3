"""Runs one stock Swift server or replicator with a private swift.conf
(saio.sh's launcher).

Swift 2.30 reads swift.conf only from a compiled-in path
(swift.common.utils.SWIFT_CONF_FILE). set_swift_dir() repoints it and
re-reads the hash prefix/suffix; constraints and storage policies are parsed
at import time, so they are reloaded afterwards. Then the packaged entry point
runs exactly as the swift-<type> script would, with verbose=True so that log
lines go to stderr (saio.sh sends it to $SAIO_ROOT/log/<name>.log):
run_wsgi for a server, run_daemon(once=True) for a replicator (one pass,
then exit, as `swift-object-replicator CONF once` does).

usage: launch.py SWIFT_DIR TYPE CONF_FILE
  TYPE: account, container, object, proxy (servers);
        object-replicator, container-replicator (one pass)
"""
import sys

from swift.common import utils

swift_dir, server_type, conf_file = sys.argv[1:4]
utils.set_swift_dir(swift_dir)
from swift.common import constraints, storage_policy  # noqa: E402
constraints.reload_constraints()
storage_policy.reload_storage_policies()

if server_type.endswith('-replicator'):
    from swift.common.daemon import run_daemon  # noqa: E402
    if server_type == 'object-replicator':
        from swift.obj.replicator import ObjectReplicator as klass
    elif server_type == 'container-replicator':
        from swift.container.replicator import ContainerReplicator as klass
    else:
        sys.exit('unknown replicator ' + server_type)
    run_daemon(klass, conf_file, once=True, verbose=True)
    sys.exit(0)

from swift.common.wsgi import run_wsgi  # noqa: E402

sys.exit(run_wsgi(conf_file, server_type + '-server', verbose=True))
