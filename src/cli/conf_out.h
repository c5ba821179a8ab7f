/*
 * conf_out - what `outpost conf` prints (internal to src/cli).
 */
#ifndef OUTPOST_CLI_CONF_OUT_H
#define OUTPOST_CLI_CONF_OUT_H

#include "config/config.h"

enum conf_mode { CONF_MODE_PARAMS, CONF_MODE_MASTER, CONF_MODE_FIELDS, CONF_MODE_SVC_PARAMS };

struct conf_opts {
	const char *dir;
	int dir_given;
	int defaults;		/* -d */
	int non_default;	/* -n */
	int values_only;	/* -h */
	int expand;		/* -x */
	int fold;		/* -f */
	int json;		/* --json */
	int edit;		/* enum config_edit_op, or -1 */
	struct strv overrides;	/* -o name=value */
	enum conf_mode mode;
};

int conf_show_params(struct config *cf, const struct conf_opts *o, int argc, char **argv);
int conf_show_master(struct config *cf, const struct conf_opts *o, int argc, char **argv);
int conf_show_fields(struct config *cf, const struct conf_opts *o, int argc, char **argv);
int conf_show_svc_params(struct config *cf, const struct conf_opts *o, int argc, char **argv);
void conf_json_string(struct buf *out, const char *s);
int conf_show_docs(int argc, char **argv);

#endif
