/*
 * smtpd_service - one smtpd process: settings, TLS context, restriction
 * engine, queue hand-off, SASL backend and resolver, then the listeners
 * and the event loop (see smtpd_service.h).
 *
 * Public: smtpd_service_main.
 *
 * Bad input: a configuration the service cannot run with (bad TLS
 * files, unknown restriction, unsupported SASL type) is fatal at start,
 * with the parameter named; the master reports it. SIGTERM stops
 * accepting and ends the process; SIGHUP is left to the master (it
 * restarts services with the new configuration).
 */
#include "smtpd/smtpd_service.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include "cleanup/cleanup.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "mail/resolve.h"
#include "smtpd/smtpd.h"
#include "smtpd/smtpd_anvil.h"
#include "smtpd/smtpd_dns.h"
#include "smtpd/smtpd_sasl.h"

/* on_accept - a new client */
static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
		      int salen, void *ctx)
{
	struct smtpd_server *srv = ctx;

	(void)l;
	if (srv->stopping) {
		close(fd);
		return;
	}
	evutil_make_socket_nonblocking(fd);
	evutil_make_socket_closeonexec(fd);
	smtpd_session_start(srv, fd, sa, (socklen_t)salen);
}

/* on_accept_error - EMFILE and friends: log, keep serving */
static void on_accept_error(struct evconnlistener *l, void *ctx)
{
	(void)l;
	(void)ctx;
	log_warn("accept: %s", evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
}

/* on_signal - SIGTERM: stop now; the queue keeps what was acknowledged */
static void on_signal(evutil_socket_t sig, short what, void *ctx)
{
	struct smtpd_server *srv = ctx;

	(void)what;
	(void)sig;
	srv->stopping = true;
	event_base_loopbreak(srv->base);
}

/* server_tls - TLS context when the service may or must use TLS */
static int server_tls(struct smtpd_server *srv, struct buf *err)
{
	struct smtpd_settings *set = &srv->set;

	if (set->tls_level == TLS_NONE && !set->tls_wrapper)
		return 0;
	srv->tls_ctx = smtpd_tls_ctx_new(srv->cf, set, err);
	if (srv->tls_ctx)
		return 0;
	if (set->tls_level == TLS_MAY && !set->tls_wrapper) {
		/* Postfix's rule too: opportunistic TLS degrades, with a warning. */
		log_warn("TLS disabled for service %s: %s", srv->service, buf_cstr(err));
		buf_reset(err);
		return 0;
	}
	return -1;
}

/* server_sasl - the SASL backend when AUTH is enabled */
static int server_sasl(struct smtpd_server *srv, struct buf *err)
{
	struct smtpd_settings *set = &srv->set;
	char *path;

	if (!set->sasl_enable)
		return 0;
	path = strncmp(set->sasl_path, "inet:", 5) == 0 ? xstrdup(set->sasl_path)
							 : config_path(srv->cf, set->sasl_path);
	srv->sasl = smtpd_sasl_backend_new(srv->cf, srv->base, set->sasl_type, path,
					   set->sasl_service, err);
	free(path);
	return srv->sasl ? 0 : -1;
}

/* server_dns - resolver for smtpd_peername_lookup */
static void server_dns(struct smtpd_server *srv)
{
	struct buf err = BUF_INIT;
	struct strv servers = STRV_INIT;

	if (!srv->set.peername_lookup)
		return;
	srv->dns = smtpd_dns_new(srv->base, &err);
	if (srv->dns == NULL) {
		log_warn("client name lookups disabled: %s", buf_cstr(&err));
	} else {
		config_list(srv->cf, "dns_servers", &servers);
		if (servers.n) {
			char *csv = strv_join(&servers, ",");

			if (smtpd_dns_servers(srv->dns, csv) < 0)
				log_warn("dns_servers: cannot use \"%s\"", csv);
			free(csv);
		}
	}
	strv_free(&servers);
	buf_free(&err);
}

/* server_listen - one libevent listener per inherited socket */
static void server_listen(struct smtpd_server *srv, const int *fds, size_t nfds)
{
	srv->listeners = xcalloc(nfds ? nfds : 1, sizeof(*srv->listeners));
	for (size_t i = 0; i < nfds; i++) {
		evutil_make_socket_nonblocking(fds[i]);
		srv->listeners[i] = evconnlistener_new(srv->base, on_accept, srv,
						       LEV_OPT_CLOSE_ON_FREE, -1, fds[i]);
		if (srv->listeners[i] == NULL)
			log_fatal("service %s: cannot listen on descriptor %d", srv->service, fds[i]);
		evconnlistener_set_error_cb(srv->listeners[i], on_accept_error);
		srv->nlisteners++;
	}
}

/* server_free - tear down in reverse order */
static void server_free(struct smtpd_server *srv)
{
	for (size_t i = 0; i < srv->nlisteners; i++)
		evconnlistener_free(srv->listeners[i]);
	free(srv->listeners);
	if (srv->sigterm)
		event_free(srv->sigterm);
	if (srv->sighup)
		event_free(srv->sighup);
	smtpd_dns_free(&srv->dns);
	smtpd_sasl_backend_free(&srv->sasl);
	smtpd_checks_free(&srv->checks);
	smtpd_anvil_free(&srv->anvil);
	resolve_list_free(&srv->limit_exceptions);
	resolve_list_free(&srv->bare_nl_exceptions);
	smtpd_tls_ctx_free(&srv->tls_ctx);
	smtpd_settings_free(&srv->set);
}

/* smtpd_service_main - run one smtpd service until SIGTERM */
int smtpd_service_main(struct config *cf, const struct master_service *svc, const int *fds,
		       size_t nfds)
{
	struct smtpd_server srv;
	struct buf err = BUF_INIT;

	memset(&srv, 0, sizeof(srv));
	signal(SIGPIPE, SIG_IGN);
	srv.cf = cf;
	srv.service = svc && svc->name ? svc->name : "smtp";
	srv.base = event_base_new();
	if (srv.base == NULL)
		log_fatal("service %s: cannot create event loop", srv.service);
	if (smtpd_settings_load(cf, &srv.set, &err) < 0 || server_tls(&srv, &err) < 0)
		log_fatal("service %s: %s", srv.service, buf_cstr(&err));
	srv.checks = smtpd_checks_new(cf, srv.base, &err);
	if (srv.checks == NULL)
		log_fatal("service %s: %s", srv.service, buf_cstr(&err));
	if (cleanup_init(srv.base, cf, &err) < 0)
		log_fatal("service %s: %s", srv.service, buf_cstr(&err));
	if (server_sasl(&srv, &err) < 0)
		log_fatal("service %s: SASL: %s", srv.service, buf_cstr(&err));
	srv.anvil = smtpd_anvil_new(srv.set.rate_time_unit);
	srv.limit_exceptions = resolve_list_new("smtpd_client_event_limit_exceptions",
		config_str(cf, "smtpd_client_event_limit_exceptions"),
		resolve_parent_style(cf, "smtpd_client_event_limit_exceptions"), &err);
	if (srv.limit_exceptions == NULL)
		log_fatal("service %s: %s", srv.service, buf_cstr(&err));
	srv.bare_nl_exceptions = resolve_list_new("smtpd_forbid_bare_newline_exclusions",
		config_str(cf, "smtpd_forbid_bare_newline_exclusions"),
		resolve_parent_style(cf, "smtpd_forbid_bare_newline_exclusions"), &err);
	if (srv.bare_nl_exceptions == NULL)
		log_fatal("service %s: %s", srv.service, buf_cstr(&err));
	server_dns(&srv);
	server_listen(&srv, fds, nfds);
	srv.sigterm = evsignal_new(srv.base, SIGTERM, on_signal, &srv);
	event_add(srv.sigterm, NULL);
	srv.sighup = evsignal_new(srv.base, SIGINT, on_signal, &srv);
	event_add(srv.sighup, NULL);
	event_base_dispatch(srv.base);
	server_free(&srv);
	event_base_free(srv.base);
	buf_free(&err);
	return 0;
}
