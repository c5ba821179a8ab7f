/*
 * derived - machine-dependent defaults, computed as Postfix computes them.
 *
 * myhostname: the system host name; a name without a dot gets
 * ".$mydomain" when mydomain is set, else ".localdomain" (no DNS lookup,
 * so start-up never waits on a resolver). mydomain: myhostname minus its
 * first label when that leaves a dotted name, else "localdomain".
 * mynetworks: the addresses of the local interfaces, per mynetworks_style:
 * host (each address alone), subnet (the interface's subnet) or class
 * (the IPv4 class A/B/C network; IPv6 as subnet). IPv4 comes first.
 *
 * Public: derived_hostname, derived_myhostname, derived_mydomain,
 * derived_mynetworks.
 * Bad input: an unknown mynetworks_style is an error in err.
 */
#include "config/derived.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/mem.h"
#include "lib/str.h"

#define DERIVED_DEFAULT_DOMAIN "localdomain"

/* derived_hostname - the system's host name as it is ("localhost" if none) */
char *derived_hostname(void)
{
	char host[256];

	if (gethostname(host, sizeof(host)) < 0 || host[0] == '\0')
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	return str_lower(xstrdup(host));
}

/* derived_myhostname - FQDN from the host name, completed with mydomain */
char *derived_myhostname(const char *host, const char *mydomain)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, host);
	if (strchr(host, '.') == NULL)
		buf_printf(&b, ".%s", mydomain && *mydomain ? mydomain : DERIVED_DEFAULT_DOMAIN);
	return str_lower(buf_steal(&b));
}

/* derived_mydomain - parent domain of myhostname */
char *derived_mydomain(const char *myhostname)
{
	const char *dot = strchr(myhostname, '.');

	if (dot == NULL || strchr(dot + 1, '.') == NULL)
		return xstrdup(DERIVED_DEFAULT_DOMAIN);
	return xstrdup(dot + 1);
}

/* mask_bits - number of leading one bits in a netmask */
static int mask_bits(const unsigned char *m, size_t len)
{
	int bits = 0;
	size_t i;

	for (i = 0; i < len; i++)
		bits += __builtin_popcount(m[i]);
	return bits;
}

/* apply_prefix - clear the host bits of addr */
static void apply_prefix(unsigned char *a, size_t len, int bits)
{
	size_t i;

	for (i = 0; i < len; i++) {
		int keep = bits - (int)i * 8;

		if (keep <= 0)
			a[i] = 0;
		else if (keep < 8)
			a[i] &= (unsigned char)(0xff << (8 - keep));
	}
}

/* class_bits - IPv4 class A/B/C prefix length */
static int class_bits(const unsigned char *a)
{
	if (a[0] < 128)
		return 8;
	if (a[0] < 192)
		return 16;
	return 24;
}

/* add_net - format one network and append it unless already there */
static void add_net(struct strv *nets, int family, unsigned char *addr, size_t len, int bits)
{
	char text[INET6_ADDRSTRLEN];
	struct buf b = BUF_INIT;

	apply_prefix(addr, len, bits);
	inet_ntop(family, addr, text, sizeof(text));
	if (family == AF_INET6)
		buf_printf(&b, "[%s]/%d", text, bits);
	else
		buf_printf(&b, "%s/%d", text, bits);
	if (strv_contains(nets, buf_cstr(&b)))
		buf_free(&b);
	else
		strv_push_take(nets, buf_steal(&b));
}

/* derived_mynetworks - networks of the local interfaces per style */
int derived_mynetworks(const char *style, struct buf *out, struct buf *err)
{
	struct ifaddrs *ifs, *ifa;
	struct strv v4 = STRV_INIT, v6 = STRV_INIT;
	int host = strcmp(style, "host") == 0, class = strcmp(style, "class") == 0;
	size_t i;

	if (!host && !class && strcmp(style, "subnet") != 0) {
		buf_printf(err, "bad mynetworks_style \"%s\" (use host, subnet or class)", style);
		return -1;
	}
	if (getifaddrs(&ifs) < 0) {
		buf_puts(out, "127.0.0.0/8 [::1]/128");
		return 0;
	}
	for (ifa = ifs; ifa; ifa = ifa->ifa_next) {
		if (ifa->ifa_addr == NULL || ifa->ifa_netmask == NULL)
			continue;
		if (ifa->ifa_addr->sa_family == AF_INET) {
			struct in_addr a = ((struct sockaddr_in *)(void *)ifa->ifa_addr)->sin_addr;
			struct in_addr m = ((struct sockaddr_in *)(void *)ifa->ifa_netmask)->sin_addr;
			unsigned char *ab = (unsigned char *)&a;
			int bits = host ? 32 : class ? class_bits(ab) : mask_bits((unsigned char *)&m, 4);

			add_net(&v4, AF_INET, ab, 4, bits);
		} else if (ifa->ifa_addr->sa_family == AF_INET6) {
			struct in6_addr a = ((struct sockaddr_in6 *)(void *)ifa->ifa_addr)->sin6_addr;
			struct in6_addr m = ((struct sockaddr_in6 *)(void *)ifa->ifa_netmask)->sin6_addr;
			int bits = host ? 128 : mask_bits((unsigned char *)&m, 16);

			add_net(&v6, AF_INET6, (unsigned char *)&a, 16, bits);
		}
	}
	freeifaddrs(ifs);
	for (i = 0; i < v4.n; i++)
		buf_printf(out, "%s%s", out->len ? " " : "", v4.v[i]);
	for (i = 0; i < v6.n; i++)
		buf_printf(out, "%s%s", out->len ? " " : "", v6.v[i]);
	strv_free(&v4);
	strv_free(&v6);
	return 0;
}
