/*
 * sendmail - pieces of sendmail(1) shared between its files.
 */
#ifndef OUTPOST_CLI_SENDMAIL_H
#define OUTPOST_CLI_SENDMAIL_H

/* sendmail_smtp - `sendmail -bs`: SMTP on stdin/stdout into maildrop/ */
int sendmail_smtp(const char *qdir);

#endif
