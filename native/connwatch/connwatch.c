/*
 * Finds the signing port's connections that uWS holds but will never answer, and ends them.
 *
 * uWS 20.30's parser takes only request lines ending in " HTTP/1.1" (and only with a Host header):
 * anything else (an HTTP/1.0 client: curl --http1.0, ApacheBench, HAProxy's default check) is kept
 * as an unfinished request, unanswered, until its 10 s idle timeout. JavaScript never hears of such
 * a connection, so this looks at the kernel's view of every established TCP connection on the port
 * (one sock_diag dump): one whose client spoke last, more than `quietMs` ago, whose bytes uWS has
 * all read and which has nothing left to send, is waiting on something uWS will not do. The caller
 * picks `quietMs` longer than any request it is still working on (src/server/stalledConnections.ts).
 *
 * Such a connection gets `answer` if nothing was ever sent on it (its first request is the one
 * stuck), then shutdown(): uWS reads the end of the stream and closes the socket itself, so its
 * own bookkeeping stays whole. Linux only; elsewhere the addon is not built and the signer goes without it.
 */
#include <dirent.h>
#include <stddef.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <linux/tcp.h> /* the kernel's struct tcp_info: glibc's lacks the byte counters */
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

enum { ESTABLISHED = 1 }; /* TCP_ESTABLISHED, from the kernel's tcp_states.h */

/* Whether a kept connection of `port` is stalled (see above); `*unanswered`: nothing was ever sent on it. */
static int stalled(int fd, unsigned short port, unsigned int quiet_ms, int *unanswered) {
  struct tcp_info info;
  socklen_t len = sizeof info;
  memset(&info, 0, sizeof info);
  /* Fields up to tcpi_bytes_received exist since Linux 4.1. */
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0 || info.tcpi_state != ESTABLISHED) return 0;
  if (len < offsetof(struct tcp_info, tcpi_bytes_received) + sizeof info.tcpi_bytes_received) return 0;
  struct sockaddr_storage local;
  socklen_t local_len = sizeof local;
  if (getsockname(fd, (struct sockaddr *)&local, &local_len) != 0) return 0;
  unsigned short local_port = local.ss_family == AF_INET    ? ntohs(((struct sockaddr_in *)&local)->sin_port)
                              : local.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&local)->sin6_port)
                                                            : 0;
  if (local_port != port) return 0;
  *unanswered = info.tcpi_bytes_acked == 0;
  int client_spoke_last = *unanswered || info.tcpi_last_data_recv < info.tcpi_last_data_sent;
  if (info.tcpi_bytes_received == 0 || !client_spoke_last || info.tcpi_last_data_recv < quiet_ms) return 0;
  int unread = 0, unsent = 0;
  if (ioctl(fd, SIOCINQ, &unread) != 0 || ioctl(fd, SIOCOUTQ, &unsent) != 0) return 0;
  return unread == 0 && unsent == 0;
}

/* sweep(port, quietMs, answer?: Buffer) → the number of connections ended. */
static napi_value sweep(napi_env env, napi_callback_info cbinfo) {
  size_t argc = 3;
  napi_value argv[3], result;
  napi_get_cb_info(env, cbinfo, &argc, argv, NULL, NULL);
  uint32_t port = 0, quiet_ms = 0;
  napi_get_value_uint32(env, argv[0], &port);
  napi_get_value_uint32(env, argv[1], &quiet_ms);
  void *answer = NULL;
  size_t answer_len = 0;
  bool is_buffer = false;
  if (argc > 2 && napi_is_buffer(env, argv[2], &is_buffer) == napi_ok && is_buffer) napi_get_buffer_info(env, argv[2], &answer, &answer_len);

  uint32_t ended = 0;
  DIR *dir = opendir("/proc/self/fd");
  struct dirent *e;
  while (dir && (e = readdir(dir)) != NULL) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    int fd = atoi(e->d_name), unanswered = 0;
    if (fd == dirfd(dir) || !stalled(fd, (unsigned short)port, quiet_ms, &unanswered)) continue;
    if (unanswered && answer_len > 0) (void)!send(fd, answer, answer_len, MSG_NOSIGNAL | MSG_DONTWAIT);
    shutdown(fd, SHUT_RDWR);
    ended++;
  }
  if (dir) closedir(dir);
  napi_create_uint32(env, ended, &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "sweep", NAPI_AUTO_LENGTH, sweep, NULL, &fn);
  napi_set_named_property(env, exports, "sweep", fn);
  return exports;
}
