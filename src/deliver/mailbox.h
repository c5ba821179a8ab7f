/*
 * mailbox - final delivery into a Maildir or an mbox file, shared by the
 * local and virtual agents. No configuration knowledge: callers pass the
 * path, limits and lock styles.
 *
 * Maildir: a unique name "SECS.MusecPpidRrandom.host" written in tmp/,
 * fsynced, linked into new/, and the new/ directory fsynced before
 * success. mbox: opened without following symlinks, locked (fcntl, flock,
 * dotlock as asked, retried while another process holds the lock),
 * appended as "From sender  date" + headers + content with ">From "
 * quoting + a blank line, fsynced; on error the file is cut back to its
 * old size so a half message never stays behind.
 *
 * Errors become a deliver_outcome: 5.2.2 when a size limit or quota is hit
 * (EFBIG, EDQUOT), 4.3.1 for a full disk, 4.2.0 for a lock that stays
 * busy, 4.3.0 for other local I/O errors — with the path and the reason.
 */
#ifndef OUTPOST_DELIVER_MAILBOX_H
#define OUTPOST_DELIVER_MAILBOX_H

#include <stdbool.h>
#include <sys/time.h>
#include <sys/types.h>
#include <time.h>

#include "deliver/deliver.h"
#include "lib/buf.h"

#define MAILBOX_LOCK_FCNTL	(1u << 0)
#define MAILBOX_LOCK_FLOCK	(1u << 1)
#define MAILBOX_LOCK_DOTLOCK	(1u << 2)

struct mbox_opts {
	unsigned locks;		/* MAILBOX_LOCK_* */
	int lock_attempts;	/* deliver_lock_attempts */
	long lock_delay;	/* deliver_lock_delay, seconds */
	long stale_lock_time;	/* dotlock older than this is removed */
	long size_limit;	/* mailbox_size_limit; 0 = none */
	const char *sender;	/* envelope sender, "" = null */
	time_t arrival;		/* From_ line date */
	bool chown_new;		/* a file we create goes to owner_uid/owner_gid */
	uid_t owner_uid;
	gid_t owner_gid;
};

void mailbox_maildir_name(struct buf *out, const struct timeval *tv, pid_t pid,
			  unsigned long long rnd, const char *host);
void mailbox_from_line(struct buf *out, const char *sender, time_t arrival);
void mailbox_quote_from(const char *text, size_t len, struct buf *out);
unsigned mailbox_lock_styles(const char *list, struct buf *err);

void mailbox_maildir_deliver(const char *dir, const struct buf *headers,
			     const struct buf *content, long size_limit,
			     struct deliver_outcome *o);
void mailbox_mbox_deliver(const char *path, const struct mbox_opts *opts,
			  const struct buf *headers, const struct buf *content,
			  struct deliver_outcome *o);

#endif
