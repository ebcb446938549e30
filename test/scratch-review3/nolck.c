#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
/* fcntl(F_SETLK/F_SETLKW/F_GETLK) on a file named *mithai.lock.db fails with ENOLCK (an NFS without lockd, some FUSE). */
static int islock(int fd) {
  char link[64], path[4096];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, path, sizeof path - 1);
  if (n <= 0) return 0; path[n] = 0;
  return n >= 14 && strcmp(path + n - 14, "mithai.lock.db") == 0;
}
int fcntl(int fd, int cmd, ...) {
  static int (*real)(int, int, ...);
  if (!real) real = dlsym(RTLD_NEXT, "fcntl");
  va_list ap; va_start(ap, cmd); void *arg = va_arg(ap, void *); va_end(ap);
  if ((cmd == F_SETLK || cmd == F_SETLKW || cmd == F_GETLK) && islock(fd)) { errno = ENOLCK; return -1; }
  return real(fd, cmd, arg);
}
int fcntl64(int fd, int cmd, ...) {
  static int (*real)(int, int, ...);
  if (!real) real = dlsym(RTLD_NEXT, "fcntl64");
  va_list ap; va_start(ap, cmd); void *arg = va_arg(ap, void *); va_end(ap);
  if ((cmd == F_SETLK || cmd == F_SETLKW || cmd == F_GETLK) && islock(fd)) { errno = ENOLCK; return -1; }
  return real(fd, cmd, arg);
}
