/* An LD_PRELOAD shim for the security tests: every syslog(3) message of the
 * process goes, as one line "<priority> <message>", to the file named by
 * $VHDSM_SYSLOG_CAPTURE (appended), so that a test can grep what a program
 * logs without a syslog daemon (the test machine may have no /dev/log, and
 * glibc then drops the messages silently).
 *
 * Interposes syslog, vsyslog and the _FORTIFY_SOURCE variants; openlog and
 * closelog become no-ops. Built by tests/reliability/security.py with cc.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

static void capture(int priority, const char *fmt, va_list ap) {
  const char *path = getenv("VHDSM_SYSLOG_CAPTURE");
  if (path == NULL) return;
  char msg[8192];
  int n = snprintf(msg, sizeof(msg), "<%d> ", priority);
  int m = vsnprintf(msg + n, sizeof(msg) - n - 1, fmt, ap);
  if (m < 0) return;
  size_t len = strlen(msg);
  msg[len++] = '\n';
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return;
  /* One write per message: O_APPEND keeps concurrent lines whole. */
  ssize_t w = write(fd, msg, len);
  (void)w;
  close(fd);
}

void openlog(const char *ident, int option, int facility) {
  (void)ident;
  (void)option;
  (void)facility;
}

void closelog(void) {}

void vsyslog(int priority, const char *fmt, va_list ap) {
  capture(priority, fmt, ap);
}

void syslog(int priority, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  capture(priority, fmt, ap);
  va_end(ap);
}

void __vsyslog_chk(int priority, int flag, const char *fmt, va_list ap) {
  (void)flag;
  capture(priority, fmt, ap);
}

void __syslog_chk(int priority, int flag, const char *fmt, ...) {
  va_list ap;
  (void)flag;
  va_start(ap, fmt);
  capture(priority, fmt, ap);
  va_end(ap);
}
