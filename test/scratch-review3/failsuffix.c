#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
/*
 * LD_PRELOAD shim for tests: the next fsync/fdatasync of a file ending in -wal fails with EIO
 * once the file named by $FAILWAL_TRIGGER exists (the shim deletes it: one failure per trigger).
 * Later fsyncs succeed, which is what Linux does after it dropped the pages it could not write.
 */
static int should_fail(int fd) {
  const char *trig = getenv("FAILWAL_TRIGGER");
  if (!trig || access(trig, F_OK) != 0) return 0;
  char link[64], path[4096];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, path, sizeof path - 1);
  if (n <= 0) return 0;
  path[n] = 0;
  if (!getenv("FAIL_SUFFIX") || n < (ssize_t)strlen(getenv("FAIL_SUFFIX")) || strcmp(path + n - strlen(getenv("FAIL_SUFFIX")), getenv("FAIL_SUFFIX")) != 0) return 0;
  unlink(trig);
  return 1;
}
int fsync(int fd) {
  static int (*real)(int);
  if (!real) real = dlsym(RTLD_NEXT, "fsync");
  if (should_fail(fd)) { errno = EIO; return -1; }
  return real(fd);
}
int fdatasync(int fd) {
  static int (*real)(int);
  if (!real) real = dlsym(RTLD_NEXT, "fdatasync");
  if (should_fail(fd)) { errno = EIO; return -1; }
  return real(fd);
}
