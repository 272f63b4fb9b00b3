#!/usr/bin/python3
"""A small XenAPI server for tests: what an SMAPIv1 driver's callbacks meet.

XenAPI XML-RPC over HTTP/1.1 POST on a Unix socket (as xapi serves it on
/var/lib/xcp/xapi), with an in-memory database of VDI and SR records. It
implements the calls a FileSR-style driver makes and checks their arguments
the way xapi's unmarshaller and database do:

  - the first parameter must be the session given to the simulator
    (else SESSION_INVALID);
  - the parameter count must match (MESSAGE_PARAMETER_COUNT_MISMATCH);
    VDI.db_introduce may stop after `location`, as xapi's defaults allow;
  - 64-bit integers must be decimal strings, booleans XML-RPC booleans,
    maps structs of strings, refs strings "OpaqueRef:..." naming a live
    object of the right class, snapshot_time a dateTime.iso8601 (or its
    text), enums one of xapi's values (FIELD_TYPE_ERROR / HANDLE_INVALID /
    UUID_INVALID / MAP_DUPLICATE_KEY / UUID_ALREADY_EXISTS otherwise);
  - answers are the XenAPI envelope: {Status: Success, Value: v} (void is "",
    64-bit numbers decimal strings) or {Status: Failure, ErrorDescription}.

Every call is recorded (method and parameters after the session); a call can
be made to fail with a chosen ErrorDescription. Anything that is not a valid
XML-RPC call over HTTP POST is answered 400 and recorded in
`protocol_errors`.

Use from a test (same process):
    sim = XapiSim(socket_path)     # sim.session, sim.sr_ref, sim.sr_uuid
    sim.start(); ...; sim.stop()
Standalone (prints "READY session=... sr_ref=... sr_uuid=..." and serves
until killed):
    xapi_sim.py --socket PATH [--session REF] [--sr-uuid UUID]
"""
import argparse
import copy
import http.server
import os
import re
import socketserver
import sys
import threading
import uuid as uuidlib
import xmlrpc.client

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
INT64_RE = re.compile(r"^-?[0-9]+$")
DATETIME_RE = re.compile(r"^[0-9]{8}T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}:?[0-9]{2})?$")
NULL_REF = "OpaqueRef:NULL"
VDI_TYPES = {"system", "user", "ephemeral", "suspend", "crashdump", "ha_statefile",
             "metadata", "redo_log", "rrd", "pvs_cache", "cbt_metadata"}


class XenApiFailure(Exception):
    def __init__(self, *description):
        super().__init__(list(description))
        self.description = [str(d) for d in description]


def new_ref():
    return "OpaqueRef:" + str(uuidlib.uuid4())


# ---- argument types --------------------------------------------------------
# Each checker takes (sim, name, value) and returns the value as stored, or
# raises XenApiFailure as xapi would.

def t_string(_sim, name, v):
    if not isinstance(v, str):
        raise XenApiFailure("FIELD_TYPE_ERROR", name)
    return v


def t_uuid(_sim, name, v):
    t_string(_sim, name, v)
    if not UUID_RE.match(v):
        raise XenApiFailure("UUID_INVALID", "VDI", v)
    return v


def t_bool(_sim, name, v):
    if not isinstance(v, bool):
        raise XenApiFailure("FIELD_TYPE_ERROR", name)
    return v


def t_int64(_sim, name, v):
    # XenAPI: 64-bit ints travel as decimal strings; an <int> is an error.
    if not isinstance(v, str) or not INT64_RE.match(v):
        raise XenApiFailure("FIELD_TYPE_ERROR", name)
    n = int(v)
    if not -(1 << 63) <= n < (1 << 63):
        raise XenApiFailure("FIELD_TYPE_ERROR", name)
    return n


def t_map(_sim, name, v):
    if not isinstance(v, dict) or not all(
            isinstance(k, str) and isinstance(x, str) for k, x in v.items()):
        raise XenApiFailure("FIELD_TYPE_ERROR", name)
    return dict(v)


def t_datetime(_sim, name, v):
    if isinstance(v, xmlrpc.client.DateTime):
        v = v.value
    if not isinstance(v, str) or not DATETIME_RE.match(v):
        raise XenApiFailure("FIELD_TYPE_ERROR", name)
    return v


def t_vdi_type(_sim, name, v):
    if not isinstance(v, str) or v not in VDI_TYPES:
        raise XenApiFailure("FIELD_TYPE_ERROR", name)
    return v


def _ref(v, name):
    if not isinstance(v, str) or not v.startswith("OpaqueRef:"):
        raise XenApiFailure("FIELD_TYPE_ERROR", name)
    return v


def t_vdi_ref(sim, name, v):
    if _ref(v, name) not in sim.vdis:
        raise XenApiFailure("HANDLE_INVALID", "VDI", v)
    return v


def t_sr_ref(sim, name, v):
    if _ref(v, name) not in sim.srs:
        raise XenApiFailure("HANDLE_INVALID", "SR", v)
    return v


def t_vdi_ref_or_null(sim, name, v):
    if _ref(v, name) != NULL_REF and v not in sim.vdis:
        raise XenApiFailure("HANDLE_INVALID", "VDI", v)
    return v


def t_any_ref(_sim, name, v):
    return _ref(v, name)


DB_INTRODUCE = [
    ("uuid", t_uuid), ("name_label", t_string), ("name_description", t_string),
    ("SR", t_sr_ref), ("type", t_vdi_type), ("sharable", t_bool),
    ("read_only", t_bool), ("other_config", t_map), ("location", t_string),
    # From here on xapi has defaults: shorter calls are valid.
    ("xenstore_data", t_map), ("sm_config", t_map), ("managed", t_bool),
    ("virtual_size", t_int64), ("physical_utilisation", t_int64),
    ("metadata_of_pool", t_any_ref), ("is_a_snapshot", t_bool),
    ("snapshot_time", t_datetime), ("snapshot_of", t_vdi_ref_or_null),
    ("cbt_enabled", t_bool),
]
DB_INTRODUCE_MIN = 9
DB_INTRODUCE_DEFAULTS = {
    "xenstore_data": {}, "sm_config": {}, "managed": True, "virtual_size": 0,
    "physical_utilisation": 0, "metadata_of_pool": NULL_REF, "is_a_snapshot": False,
    "snapshot_time": "19700101T00:00:00Z", "snapshot_of": NULL_REF,
    "cbt_enabled": False,
}


class XapiSim:
    """The simulator: a database, a call log, injected failures, a server."""

    def __init__(self, socket_path, session=None, sr_uuid=None):
        self.socket_path = socket_path
        self.session = session or new_ref()
        self.sr_uuid = sr_uuid or str(uuidlib.uuid4())
        self.sr_ref = new_ref()
        self.lock = threading.Lock()
        self.vdis = {}   # ref -> record (Python values; sizes as int)
        self.srs = {self.sr_ref: {"uuid": self.sr_uuid, "physical_size": 0,
                                  "physical_utilisation": 0,
                                  "virtual_allocation": 0}}
        self.calls = []            # (method, [params after the session])
        self.protocol_errors = []  # what was not a valid XenAPI call
        self.failures = {}         # method -> [description, times or None]
        self.server = None
        self.thread = None
        self.methods = {
            "VDI.db_introduce": self.vdi_db_introduce,
            "VDI.db_forget": self.vdi_db_forget,
            "VDI.get_by_uuid": self.vdi_get_by_uuid,
            "VDI.get_record": self.vdi_get_record,
            "VDI.get_location": self.vdi_get_location,
            "VDI.get_sm_config": self.vdi_get_sm_config,
            "VDI.get_all_records_where": self.vdi_get_all_records_where,
            "VDI.set_virtual_size": self.setter("virtual_size", t_int64),
            "VDI.set_physical_utilisation": self.setter("physical_utilisation", t_int64),
            "VDI.set_read_only": self.setter("read_only", t_bool),
            "VDI.set_managed": self.setter("managed", t_bool),
            "VDI.add_to_sm_config": self.vdi_add_to_sm_config,
            "VDI.remove_from_sm_config": self.vdi_remove_from_sm_config,
            "SR.get_VDIs": self.sr_get_vdis,
            "SR.set_physical_size": self.sr_setter("physical_size"),
            "SR.set_physical_utilisation": self.sr_setter("physical_utilisation"),
            "SR.set_virtual_allocation": self.sr_setter("virtual_allocation"),
        }

    # ---- control ------------------------------------------------------------
    def start(self):
        if os.path.exists(self.socket_path):
            os.unlink(self.socket_path)
        sim = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as xapi

            def do_POST(self):  # noqa: N802 (http.server's naming)
                if self.path != "/":  # xapi serves XenAPI at "/"
                    return self.reject("POST to %r, not /" % self.path)
                length = self.headers.get("Content-Length")
                if length is None or not length.isdigit():
                    return self.reject("POST without a Content-Length")
                body = self.rfile.read(int(length))
                try:
                    params, method = xmlrpc.client.loads(body.decode("utf-8"))
                except Exception as e:  # pylint: disable=broad-except
                    return self.reject("not an XML-RPC call: %r" % e)
                if method is None:
                    return self.reject("a methodResponse, not a methodCall")
                out = sim.dispatch(method, list(params)).encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)
                return None

            def reject(self, why):
                with sim.lock:
                    sim.protocol_errors.append(why)
                self.send_response(400)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):  # quiet; Unix peers have no address
                pass

        class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
            daemon_threads = True

        self.server = Server(self.socket_path, Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
        if os.path.exists(self.socket_path):
            os.unlink(self.socket_path)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def fail(self, method, description=("INTERNAL_ERROR", "injected by the test"),
             times=None):
        """Makes `method` answer Failure(description), `times` times (None: always)."""
        with self.lock:
            self.failures[method] = [list(description), times]

    def clear_calls(self):
        with self.lock:
            self.calls = []

    def methods_called(self):
        with self.lock:
            return [m for m, _ in self.calls]

    def by_location(self):
        """location -> record (a copy), for comparisons with the SR on disk."""
        with self.lock:
            return {r["location"]: copy.deepcopy(r) for r in self.vdis.values()}

    def ref_of(self, uuid):
        with self.lock:
            for ref, r in self.vdis.items():
                if r["uuid"] == uuid:
                    return ref
        return None

    def add_vdi(self, **fields):
        """Puts a record straight into the database (a stale one, say)."""
        rec = {"uuid": str(uuidlib.uuid4()), "name_label": "", "name_description": "",
               "SR": self.sr_ref, "type": "user", "sharable": False, "read_only": False,
               "other_config": {}, "location": "", "xenstore_data": {}, "sm_config": {}}
        rec.update({k: copy.deepcopy(v) for k, v in DB_INTRODUCE_DEFAULTS.items()})
        rec.update(fields)
        ref = new_ref()
        with self.lock:
            self.vdis[ref] = rec
        return ref

    # ---- dispatch -----------------------------------------------------------
    def dispatch(self, method, params):
        with self.lock:
            self.calls.append((method, copy.deepcopy(params[1:])))
            try:
                if not params or params[0] != self.session:
                    raise XenApiFailure("SESSION_INVALID",
                                        params[0] if params else "")
                injected = self.failures.get(method)
                if injected is not None:
                    description, times = injected
                    if times is not None:
                        injected[1] = times - 1
                        if injected[1] <= 0:
                            del self.failures[method]
                    raise XenApiFailure(*description)
                fn = self.methods.get(method)
                if fn is None:
                    raise XenApiFailure("MESSAGE_METHOD_UNKNOWN", method)
                value = fn(params[1:])
                answer = {"Status": "Success", "Value": "" if value is None else value}
            except XenApiFailure as f:
                answer = {"Status": "Failure", "ErrorDescription": f.description}
        return xmlrpc.client.dumps((answer,), methodresponse=True, allow_none=False)

    def check(self, method, args, signature, minimum=None):
        if not (minimum or len(signature)) <= len(args) <= len(signature):
            raise XenApiFailure("MESSAGE_PARAMETER_COUNT_MISMATCH", method,
                                str(len(signature) + 1), str(len(args) + 1))
        return [checker(self, name, v)
                for (name, checker), v in zip(signature, args)]

    # ---- VDI ----------------------------------------------------------------
    def vdi_db_introduce(self, args):
        values = self.check("VDI.db_introduce", args, DB_INTRODUCE, DB_INTRODUCE_MIN)
        rec = {k: copy.deepcopy(v) for k, v in DB_INTRODUCE_DEFAULTS.items()}
        rec.update({name: v for (name, _), v in zip(DB_INTRODUCE, values)})
        if any(r["uuid"] == rec["uuid"] for r in self.vdis.values()):
            raise XenApiFailure("UUID_ALREADY_EXISTS", "VDI", rec["uuid"])
        ref = new_ref()
        self.vdis[ref] = rec
        return ref

    def vdi_db_forget(self, args):
        (ref,) = self.check("VDI.db_forget", args, [("vdi", t_vdi_ref)])
        del self.vdis[ref]

    def vdi_get_by_uuid(self, args):
        (uuid,) = self.check("VDI.get_by_uuid", args, [("uuid", t_string)])
        for ref, r in self.vdis.items():
            if r["uuid"] == uuid:
                return ref
        raise XenApiFailure("UUID_INVALID", "VDI", uuid)

    def wire_record(self, rec):
        """A record as xapi sends it: 64-bit numbers as strings, a DateTime."""
        out = copy.deepcopy(rec)
        for k in ("virtual_size", "physical_utilisation"):
            out[k] = str(out[k])
        out["snapshot_time"] = xmlrpc.client.DateTime(out["snapshot_time"])
        return out

    def vdi_get_record(self, args):
        (ref,) = self.check("VDI.get_record", args, [("self", t_vdi_ref)])
        return self.wire_record(self.vdis[ref])

    def vdi_get_location(self, args):
        (ref,) = self.check("VDI.get_location", args, [("self", t_vdi_ref)])
        return self.vdis[ref]["location"]

    def vdi_get_sm_config(self, args):
        (ref,) = self.check("VDI.get_sm_config", args, [("self", t_vdi_ref)])
        return dict(self.vdis[ref]["sm_config"])

    def vdi_get_all_records_where(self, args):
        (expr,) = self.check("VDI.get_all_records_where", args, [("expr", t_string)])
        m = re.match(r'^\s*field\s+"SR"\s*=\s*"([^"]*)"\s*$', expr)
        if not m:
            raise XenApiFailure("INTERNAL_ERROR", "the simulator knows only "
                                'field "SR" = "<ref>" expressions')
        return {ref: self.wire_record(r) for ref, r in self.vdis.items()
                if r["SR"] == m.group(1)}

    def setter(self, field, checker):
        def set_field(args):
            ref, value = self.check("VDI.set_" + field, args,
                                    [("self", t_vdi_ref), ("value", checker)])
            self.vdis[ref][field] = value
        return set_field

    def vdi_add_to_sm_config(self, args):
        ref, key, value = self.check("VDI.add_to_sm_config", args,
                                     [("self", t_vdi_ref), ("key", t_string),
                                      ("value", t_string)])
        sm = self.vdis[ref]["sm_config"]
        if key in sm:
            raise XenApiFailure("MAP_DUPLICATE_KEY", "VDI", "sm_config", ref, key)
        sm[key] = value

    def vdi_remove_from_sm_config(self, args):
        ref, key = self.check("VDI.remove_from_sm_config", args,
                              [("self", t_vdi_ref), ("key", t_string)])
        self.vdis[ref]["sm_config"].pop(key, None)

    # ---- SR -----------------------------------------------------------------
    def sr_get_vdis(self, args):
        (ref,) = self.check("SR.get_VDIs", args, [("self", t_sr_ref)])
        return [v for v, r in self.vdis.items() if r["SR"] == ref]

    def sr_setter(self, field):
        def set_field(args):
            ref, value = self.check("SR.set_" + field, args,
                                    [("self", t_sr_ref), ("value", t_int64)])
            self.srs[ref][field] = value
        return set_field


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--socket", required=True)
    ap.add_argument("--session")
    ap.add_argument("--sr-uuid")
    a = ap.parse_args()
    sim = XapiSim(a.socket, a.session, a.sr_uuid).start()
    print("READY session=%s sr_ref=%s sr_uuid=%s" % (sim.session, sim.sr_ref,
                                                    sim.sr_uuid), flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()


if __name__ == "__main__":
    sys.exit(main())
