"""Builds the account, container and object rings of a Swift all-in-one in
one process.

Node i (1-based) is device d<i> at 127.0.0.1:<its port> in region 1, zone
i, weight 1; every ring holds REPLICAS replicas (one per node: Swift places
replicas in distinct zones first, as it would across racks). Same result
as `swift-ring-builder <t>.builder create 10 REPLICAS 1; add
r1z<i>-127.0.0.1:<port>/d<i> 1 (each node); rebalance` for each ring, but
one Python start-up instead of 3 x (2 + REPLICAS) (~0.3 s instead of ~2.5 s).

usage: make_rings.py ETC_DIR REPLICAS ACCOUNT_PORTS CONTAINER_PORTS
                     OBJECT_PORTS      (each PORTS: comma-separated, node order)
"""
import os
import sys

from swift.common.ring import RingBuilder

etc = sys.argv[1]
replicas = int(sys.argv[2])
kinds = ('account', 'container', 'object')
for kind, ports in zip(kinds, sys.argv[3:6]):
    ports = [int(p) for p in ports.split(',')]
    if len(ports) != replicas:
        sys.exit('%s: %d ports for %d replicas' % (kind, len(ports), replicas))
    builder = RingBuilder(10, replicas, 1)  # part power 10, 1 hour
    for i, port in enumerate(ports):
        builder.add_dev({'id': i, 'region': 1, 'zone': i + 1,
                         'ip': '127.0.0.1', 'port': port,
                         'replication_ip': '127.0.0.1',
                         'replication_port': port,
                         'device': 'd%d' % (i + 1), 'weight': 1.0,
                         'meta': ''})
    builder.rebalance()
    builder.save(os.path.join(etc, kind + '.builder'))
    builder.get_ring().save(os.path.join(etc, kind + '.ring.gz'))
