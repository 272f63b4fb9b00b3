/* A C (not C++) host of libvhdsm.so: dlopen, check the ABI version, make one
 * call, print the response. Usage: c_abi_client LIBVHDSM_SO < request */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vhdsm/plugin.h"

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    fprintf(stderr, "dlopen: %s\n", dlerror());
    return 1;
  }
  int (*abi)(void) = (int (*)(void))dlsym(lib, "vhdsm_abi_version");
  vhdsm_plugin *(*open_fn)(const char *, char **) =
      (vhdsm_plugin * (*)(const char *, char **)) dlsym(lib, "vhdsm_open");
  int (*handle)(vhdsm_plugin *, const char *, size_t, char **, size_t *) =
      (int (*)(vhdsm_plugin *, const char *, size_t, char **, size_t *))dlsym(
          lib, "vhdsm_handle");
  void (*free_fn)(void *) = (void (*)(void *))dlsym(lib, "vhdsm_free");
  void (*close_fn)(vhdsm_plugin *) =
      (void (*)(vhdsm_plugin *))dlsym(lib, "vhdsm_close");
  if (!abi || !open_fn || !handle || !free_fn || !close_fn) {
    fprintf(stderr, "missing symbol\n");
    return 1;
  }
  if (abi() != VHDSM_ABI_VERSION) {
    fprintf(stderr, "ABI %d, expected %d\n", abi(), VHDSM_ABI_VERSION);
    return 1;
  }
  char req[65536];
  size_t n = fread(req, 1, sizeof(req) - 1, stdin);
  req[n] = 0;
  char *err = NULL;
  vhdsm_plugin *p = open_fn(NULL, &err);
  if (!p) {
    fprintf(stderr, "open: %s\n", err ? err : "?");
    return 1;
  }
  char *resp = NULL;
  size_t len = 0;
  if (handle(p, req, n, &resp, &len) != 0) return 1;
  fwrite(resp, 1, len, stdout);
  free_fn(resp);
  close_fn(p);
  dlclose(lib);
  return 0;
}
