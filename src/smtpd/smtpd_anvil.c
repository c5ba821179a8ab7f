/*
 * smtpd_anvil - per-client counters (see smtpd_anvil.h).
 *
 * Public: smtpd_anvil_new, smtpd_anvil_free, smtpd_anvil_connect,
 * smtpd_anvil_disconnect, smtpd_anvil_event, smtpd_anvil_size.
 *
 * A chained hash on the client address. An entry lives while the client
 * has connections or its current rate window is open; expired idle entries
 * are dropped when their bucket is next visited, so memory follows the
 * number of recently seen clients.
 */
#include "smtpd/smtpd_anvil.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "lib/mem.h"

#define ANVIL_BUCKETS 1024

struct anvil_entry {
	struct anvil_entry *next;
	unsigned conns;
	time_t window;			/* start of the current rate window */
	unsigned rate[ANVIL_NEVENTS];
	char addr[];
};

struct smtpd_anvil {
	long unit;
	size_t n;
	struct anvil_entry *bucket[ANVIL_BUCKETS];
};

/* smtpd_anvil_new - empty table */
struct smtpd_anvil *smtpd_anvil_new(long rate_unit)
{
	struct smtpd_anvil *a = xcalloc(1, sizeof(*a));

	a->unit = rate_unit > 0 ? rate_unit : 60;
	return a;
}

/* smtpd_anvil_free - drop every entry */
void smtpd_anvil_free(struct smtpd_anvil **ap)
{
	struct smtpd_anvil *a = *ap;

	if (a == NULL)
		return;
	for (size_t i = 0; i < ANVIL_BUCKETS; i++) {
		while (a->bucket[i]) {
			struct anvil_entry *e = a->bucket[i];

			a->bucket[i] = e->next;
			free(e);
		}
	}
	xfree(ap);
}

/* hash - FNV-1a over the address */
static size_t hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % ANVIL_BUCKETS;
}

/* find - entry for addr (created if asked); prunes expired idle entries */
static struct anvil_entry *find(struct smtpd_anvil *a, const char *addr, time_t now,
				bool create)
{
	struct anvil_entry **pp = &a->bucket[hash(addr)], *e;

	while ((e = *pp) != NULL) {
		bool expired = now - e->window >= a->unit;

		if (strcmp(e->addr, addr) == 0) {
			if (expired) {
				memset(e->rate, 0, sizeof(e->rate));
				e->window = now;
			}
			return e;
		}
		if (expired && e->conns == 0) {
			*pp = e->next;
			free(e);
			a->n--;
			continue;
		}
		pp = &e->next;
	}
	if (!create)
		return NULL;
	size_t len = strlen(addr);

	e = xcalloc(1, sizeof(*e) + len + 1);
	memcpy(e->addr, addr, len + 1);
	e->window = now;
	e->next = a->bucket[hash(addr)];
	a->bucket[hash(addr)] = e;
	a->n++;
	return e;
}

/* smtpd_anvil_connect - count a new connection; returns concurrent count */
unsigned smtpd_anvil_connect(struct smtpd_anvil *a, const char *addr, time_t now,
			     unsigned *rate)
{
	struct anvil_entry *e = find(a, addr, now, true);

	e->conns++;
	*rate = ++e->rate[ANVIL_CONN];
	return e->conns;
}

/* smtpd_anvil_disconnect - a connection ended */
void smtpd_anvil_disconnect(struct smtpd_anvil *a, const char *addr, time_t now)
{
	struct anvil_entry *e = find(a, addr, now, false);

	if (e && e->conns)
		e->conns--;
}

/* smtpd_anvil_event - count one MAIL/RCPT/AUTH; returns the rate so far */
unsigned smtpd_anvil_event(struct smtpd_anvil *a, const char *addr, enum anvil_event ev,
			   time_t now)
{
	struct anvil_entry *e = find(a, addr, now, true);

	return ++e->rate[ev];
}

/* smtpd_anvil_size - entries held (tests) */
size_t smtpd_anvil_size(const struct smtpd_anvil *a)
{
	return a->n;
}
