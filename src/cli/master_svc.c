/*
 * master_svc - the listening endpoints of master.cf services.
 *
 * inet: the service name is "host:port", "[v6addr]:port" or just "port";
 * a port is a number or a name from /etc/services (smtp, submission).
 * Without a host, every address of inet_interfaces is used ("all": the
 * wildcard of each protocol in inet_protocols; "loopback-only": 127.0.0.1
 * and ::1). unix and pass: a stream socket, unix-dgram: a datagram socket,
 * fifo: a FIFO, each at queue_directory/private/NAME (private = y) or
 * queue_directory/public/NAME.
 *
 * Public: master_listen, master_listener_close, master_make_dirs.
 * Bad input: an unknown port name, an unresolvable host, or a bind error
 * returns -1 with "master.cf:LINE: service NAME: …" in err.
 */
#include "cli/master.h"
#include "queue/queue.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/mem.h"

/* push_fd - keep one listening descriptor */
static void push_fd(struct master_listener *l, int fd, const char *where)
{
	l->fds = xreallocarray(l->fds, l->nfds + 1, sizeof(int));
	l->fds[l->nfds++] = fd;
	strv_push(&l->where, where);
}

/* svc_error - "FILE:LINE: service NAME/TYPE: text" */
static int svc_error(struct buf *err, const struct master_service *svc, const char *fmt,
		     const char *a, const char *b)
{
	buf_printf(err, "%s:%d: service %s/%s: ", svc->file, svc->line, svc->name, svc->type);
	buf_printf(err, fmt, a, b);
	buf_putc(err, '\n');
	return -1;
}

/* split_host_port - "host:port", "[v6]:port", "port" */
static void split_host_port(const char *name, char **host, char **port)
{
	const char *colon;

	*host = NULL;
	if (name[0] == '[' && (colon = strstr(name, "]:")) != NULL) {
		*host = xstrndup(name + 1, (size_t)(colon - name - 1));
		*port = xstrdup(colon + 2);
	} else if ((colon = strrchr(name, ':')) != NULL) {
		*host = xstrndup(name, (size_t)(colon - name));
		*port = xstrdup(colon + 1);
	} else {
		*port = xstrdup(name);
	}
	if (*host && (strcmp(*host, "*") == 0 || **host == '\0'))
		xfree(host);
}

/* resolve_port - a number, or a name from /etc/services */
static int resolve_port(const char *port, char *out, size_t outlen)
{
	struct servent *se;
	long n;

	if (str_parse_long(port, &n) == 0 && n > 0 && n < 65536) {
		snprintf(out, outlen, "%ld", n);
		return 0;
	}
	if ((se = getservbyname(port, "tcp")) == NULL)
		return -1;
	snprintf(out, outlen, "%d", ntohs((unsigned short)se->s_port));
	return 0;
}

/* bind_one - socket, bind and listen for one address */
static int bind_one(const struct addrinfo *ai, int *fdp, struct buf *why)
{
	int fd, on = 1;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0) {
		buf_printf(why, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (ai->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, SOMAXCONN) < 0) {
		buf_printf(why, "%s", strerror(errno));
		close(fd);
		return -1;
	}
	*fdp = fd;
	return 0;
}

/* listen_host - every address of one host (NULL: wildcard per family) */
static int listen_host(const char *host, const char *port, int family, struct master_listener *l,
		       const struct master_service *svc, struct buf *err)
{
	struct addrinfo hints, *res, *ai;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0)
		return svc_error(err, svc, "cannot resolve %s: %s", host ? host : "*",
				 gai_strerror(rc));
	for (ai = res; ai; ai = ai->ai_next) {
		char text[NI_MAXHOST], where[NI_MAXHOST + 16];
		struct buf why = BUF_INIT;
		int fd;

		getnameinfo(ai->ai_addr, ai->ai_addrlen, text, sizeof(text), NULL, 0, NI_NUMERICHOST);
		snprintf(where, sizeof(where), ai->ai_family == AF_INET6 ? "[%s]:%s" : "%s:%s", text,
			 port);
		if (strv_contains(&l->where, where))
			continue;
		if (bind_one(ai, &fd, &why) < 0) {
			/* a wildcard of a protocol the kernel lacks is not an error */
			if (host == NULL && ai->ai_family == AF_INET6 && errno == EAFNOSUPPORT) {
				buf_free(&why);
				continue;
			}
			svc_error(err, svc, "cannot listen on %s: %s", where, buf_cstr(&why));
			buf_free(&why);
			freeaddrinfo(res);
			return -1;
		}
		push_fd(l, fd, where);
		buf_free(&why);
	}
	freeaddrinfo(res);
	return 0;
}

/* protocol_families - AF_INET / AF_INET6 per inet_protocols */
static void protocol_families(struct config *cf, int *v4, int *v6)
{
	struct strv protos = STRV_INIT;
	size_t i;

	*v4 = *v6 = 0;
	config_list(cf, "inet_protocols", &protos);
	for (i = 0; i < protos.n; i++) {
		if (strcmp(protos.v[i], "all") == 0)
			*v4 = *v6 = 1;
		else if (strcmp(protos.v[i], "ipv4") == 0)
			*v4 = 1;
		else if (strcmp(protos.v[i], "ipv6") == 0)
			*v6 = 1;
	}
	if (!*v4 && !*v6)
		*v4 = 1;
	strv_free(&protos);
}

/* listen_inet - TCP listeners of an inet service */
static int listen_inet(struct config *cf, const struct master_service *svc,
		       struct master_listener *l, struct buf *err)
{
	char *host, *port, num[16];
	struct strv ifaces = STRV_INIT;
	int v4, v6, rc = 0;
	size_t i;

	split_host_port(svc->name, &host, &port);
	if (resolve_port(port, num, sizeof(num)) < 0) {
		rc = svc_error(err, svc, "unknown port or service name \"%s\"%s", port,
			       " (not a number and not in /etc/services)");
		goto out;
	}
	protocol_families(cf, &v4, &v6);
	if (host) {
		rc = listen_host(host, num, AF_UNSPEC, l, svc, err);
		goto out;
	}
	config_list(cf, "inet_interfaces", &ifaces);
	for (i = 0; i < ifaces.n && rc == 0; i++) {
		if (strcmp(ifaces.v[i], "all") == 0) {
			if (v4)
				rc = listen_host(NULL, num, AF_INET, l, svc, err);
			if (v6 && rc == 0)
				rc = listen_host(NULL, num, AF_INET6, l, svc, err);
		} else if (strcmp(ifaces.v[i], "loopback-only") == 0) {
			if (v4)
				rc = listen_host("127.0.0.1", num, AF_INET, l, svc, err);
			if (v6 && rc == 0)
				rc = listen_host("::1", num, AF_INET6, l, svc, err);
		} else {
			char *h = ifaces.v[i];
			size_t n = strlen(h);

			if (h[0] == '[' && h[n - 1] == ']') {
				h[n - 1] = '\0';
				h++;
			}
			rc = listen_host(h, num, AF_UNSPEC, l, svc, err);
		}
	}
out:
	strv_free(&ifaces);
	free(host);
	free(port);
	return rc;
}

/* local_path - queue_directory/{private,public}/NAME */
static char *local_path(struct config *cf, const struct master_service *svc)
{
	struct buf b = BUF_INIT;

	buf_printf(&b, "%s/%s/%s", config_str(cf, "queue_directory"),
		   svc->private_ ? "private" : "public", svc->name);
	return buf_steal(&b);
}

/* listen_local - a UNIX-domain socket or a FIFO */
static int listen_local(struct config *cf, const struct master_service *svc, int fifo,
			struct master_listener *l, struct buf *err)
{
	char *path = local_path(cf, svc);
	struct sockaddr_un sun;
	int fd, dgram = strcmp(svc->type, "unix-dgram") == 0;
	mode_t mode = svc->private_ ? 0600 : 0666;

	unlink(path);
	if (fifo) {
		if (mkfifo(path, mode) < 0 || (fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0) {
			svc_error(err, svc, "cannot create FIFO %s: %s", path, strerror(errno));
			free(path);
			return -1;
		}
		chmod(path, mode);
		push_fd(l, fd, path);
		free(path);
		return 0;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		svc_error(err, svc, "socket path too long: %s%s", path, "");
		free(path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, (dgram ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    (!dgram && listen(fd, SOMAXCONN) < 0)) {
		svc_error(err, svc, "cannot listen on %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		free(path);
		return -1;
	}
	chmod(path, mode);
	push_fd(l, fd, path);
	free(path);
	return 0;
}

/* master_listen - create the listeners one service needs */
int master_listen(struct config *cf, const struct master_service *svc, enum service_listen how,
		  struct master_listener *out, struct buf *err)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if (how == SERVICE_LISTEN_NONE)
		return 0;
	if (how == SERVICE_LISTEN_FIFO || strcmp(svc->type, "fifo") == 0)
		rc = listen_local(cf, svc, 1, out, err);
	else if (strcmp(svc->type, "inet") == 0)
		rc = listen_inet(cf, svc, out, err);
	else
		rc = listen_local(cf, svc, 0, out, err);
	if (rc < 0)
		master_listener_close(out);
	return rc;
}

/* master_listener_close - close and forget the descriptors */
void master_listener_close(struct master_listener *l)
{
	size_t i;

	for (i = 0; i < l->nfds; i++)
		close(l->fds[i]);
	xfree(&l->fds);
	l->nfds = 0;
	strv_free(&l->where);
}

/* mkdir_one - create a directory unless it exists */
static int mkdir_one(const char *path, mode_t mode, struct buf *err)
{
	struct stat st;

	if (mkdir(path, mode) == 0 || (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode)))
		return 0;
	buf_printf(err, "cannot create directory %s: %s\n", path, strerror(errno));
	return -1;
}

/* master_make_dirs - queue_directory and its pid, private, public folders */
int master_make_dirs(struct config *cf, struct buf *err)
{
	static const struct {
		const char *sub;
		mode_t mode;
	/*
	 * public/ is searchable by everyone: the FIFOs in it (qmgr's flush,
	 * pickup's wakeup) are how unprivileged `outpost queue flush` and
	 * sendmail reach the daemons, without a set-group-id helper.
	 */
	} dirs[] = { { "pid", 0755 }, { "private", 0700 }, { "public", 0711 } };
	const char *q = config_str(cf, "queue_directory");
	struct buf p = BUF_INIT;
	size_t i;
	int rc = 0;

	for (i = 1; q[i] && rc == 0; i++)
		if (q[i] == '/') {
			buf_set(&p, "");
			buf_append(&p, q, i);
			rc = mkdir_one(buf_cstr(&p), 0755, err);
		}
	if (rc == 0)
		rc = mkdir_one(q, 0755, err);
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]) && rc == 0; i++) {
		buf_reset(&p);
		buf_printf(&p, "%s/%s", q, dirs[i].sub);
		rc = mkdir_one(buf_cstr(&p), dirs[i].mode, err);
	}
	if (rc == 0)	/* incoming/ etc.: smtpd's cleanup may run before qmgr ever does */
		rc = queue_init_dirs(q, err);
	buf_free(&p);
	return rc;
}
