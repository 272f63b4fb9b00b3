// Limits: the bounds the parser enforces on untrusted input.
//
// Every document is checked against all of them before or while it is
// parsed; exceeding one is a parse error (a fault), never a crash or an
// unbounded allocation. The defaults fit SMAPIv1 traffic (xapi's argv is at
// most 128 KiB) and the validator1 suite with a wide margin.
#ifndef VHDSM_XMLRPC_LIMITS_H_
#define VHDSM_XMLRPC_LIMITS_H_

#include <cstddef>

namespace xmlrpc {

struct Limits {
  // Bytes of the whole document. Also the HTTP server's body limit (413) and
  // the most the exec transport reads from stdin.
  size_t max_body_bytes = 8 << 20;
  // Nesting of arrays and structs inside one another: a scalar in a param is
  // depth 0, an array of scalars 1. (The XML element depth is bounded at
  // 3 * max_value_depth + 8, which this implies.)
  int max_value_depth = 64;
  // XML elements in the whole document.
  size_t max_elements = 250000;
  // Members of one struct, items of one array, params of one call.
  size_t max_items = 100000;
};

}  // namespace xmlrpc

#endif  // VHDSM_XMLRPC_LIMITS_H_
