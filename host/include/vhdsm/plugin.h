/* libvhdsm: the vhdsm storage-manager plugin behind a small, stable C ABI.
 *
 * A host (the VHDSR driver executable, the vhdsmd daemon, or a toolstack
 * that embeds storage) opens the plugin once, hands it SMAPIv1 XML-RPC
 * requests as bytes and gets XML-RPC responses back, and closes it. Every
 * exported symbol starts with vhdsm_; no C++ exception crosses this ABI.
 *
 * Threads: vhdsm_handle may be called concurrently on one plugin; the other
 * calls must not race with it or with each other.
 *
 * Versioning: VHDSM_ABI_VERSION changes when any declaration here changes
 * incompatibly; a host checks vhdsm_abi_version() == VHDSM_ABI_VERSION.
 */
#ifndef VHDSM_HOST_INCLUDE_VHDSM_PLUGIN_H_
#define VHDSM_HOST_INCLUDE_VHDSM_PLUGIN_H_

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VHDSM_ABI_VERSION 1

typedef struct vhdsm_plugin vhdsm_plugin;

/* Events (progress of long operations, GC results), as one line of JSON
 * such as {"event":"task","task_id":"...","progress":50}. Called on the
 * plugin's threads; must not call back into the plugin. */
typedef void (*vhdsm_event_fn)(void* user, const char* event_json);

/* The ABI version of the loaded library. */
int vhdsm_abi_version(void);

/* Opens a plugin. `config` is a configuration file's path, or NULL for the
 * defaults ($VHDSM_CONFIG when set, else /etc/vhdsm/vhdsm.conf when it
 * exists). Helpers the plugin starts (GC, image task workers) get the path
 * it was opened with in $VHDSM_CONFIG. On failure returns NULL and, if
 * `error` is not NULL, sets *error to a message the caller releases with
 * vhdsm_free. */
vhdsm_plugin* vhdsm_open(const char* config, char** error);

/* Handles one request of `request_len` bytes. On success returns 0 and sets
 * *response (NUL-terminated, released with vhdsm_free) and *response_len;
 * the response may be an XML-RPC fault. Returns -1 only if memory ran out
 * or an argument is NULL. */
int vhdsm_handle(vhdsm_plugin* plugin, const char* request, size_t request_len,
                 char** response, size_t* response_len);

/* Who sent a request, for a host that serves other processes (vhdsmd).
 * What a call may do depends on it: only root may name an SR directory
 * outside the configured sr_roots. */
typedef struct vhdsm_peer {
  int transport; /* one of the VHDSM_PEER_* below */
  long long uid; /* VHDSM_PEER_UNIX: the peer's uid (SO_PEERCRED) */
  long long pid; /* VHDSM_PEER_UNIX: the peer's pid, for logs */
} vhdsm_peer;

#define VHDSM_PEER_IN_PROCESS 0 /* the host itself, with its privileges */
#define VHDSM_PEER_UNIX 1       /* a Unix-socket peer; root if uid is 0 */
#define VHDSM_PEER_TCP 2        /* a (loopback) TCP peer: never trusted */

/* Runs image task `task_id` to its end in this thread: the detached worker
 * (VHDSR --run-task) a host whose image tasks do not run in threads starts.
 * 0 when the run ended (the task's record says how); -1 and *error
 * (released with vhdsm_free) when it could not (an unknown id, a record
 * that cannot be saved). */
int vhdsm_run_task(vhdsm_plugin* plugin, const char* task_id, char** error);

/* vhdsm_handle for a request from `peer`. vhdsm_handle is this with an
 * in-process peer. An unknown transport counts as TCP. */
int vhdsm_handle_peer(vhdsm_plugin* plugin, const vhdsm_peer* peer,
                      const char* request, size_t request_len, char** response,
                      size_t* response_len);

/* Sets (or, with fn NULL, clears) the event callback. */
void vhdsm_set_event_callback(vhdsm_plugin* plugin, vhdsm_event_fn fn,
                              void* user);

/* Releases memory the plugin returned. */
void vhdsm_free(void* p);

/* Closes the plugin; waits for its background work to stop. */
void vhdsm_close(vhdsm_plugin* plugin);

#ifdef __cplusplus
}
#endif

#endif /* VHDSM_HOST_INCLUDE_VHDSM_PLUGIN_H_ */
