/*
 * cmd_map - the engine shared by `outpost map` (postmap) and
 * `outpost alias` / newaliases (postalias): same flags, two flavours.
 */
#ifndef OUTPOST_CLI_CMD_MAP_H
#define OUTPOST_CLI_CMD_MAP_H

#include <stdbool.h>

struct map_flavor {
	const char *name;	/* "map" or "alias", for usage lines */
	bool alias_format;	/* sources are aliases(5) files */
	const char *dump_sep;	/* between key and value in -s / -q - output */
};

extern const struct map_flavor map_flavor_map;
extern const struct map_flavor map_flavor_alias;

struct config;

int map_main(int argc, char **argv, const struct map_flavor *fl);
struct config *map_config(const char *config_dir);
const char *map_default_type(const char *config_dir);

#endif
