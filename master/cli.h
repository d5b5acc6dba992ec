/* cli.h - tlsd's command line (SPEC.md "Command line").
 *
 * Flags that set config values are turned into a JSON object with the
 * config file's key names ("--listen" -> "listen": [...], "--control" ->
 * "control": {"listen": ...}); config_load merges it over the file, so one
 * parser validates both and every error names the config key.
 */
#ifndef TLSD_MASTER_CLI_H
#define TLSD_MASTER_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "common/err.h"

struct cli_args {
	const char *config_path;	/* -c FILE, or NULL */
	json_t *overrides;		/* owned: config keys from flags */
	bool check;			/* --check */
	bool help;			/* --help */
	bool version;			/* --version */
};

/* cli_parse: read <argv> into <out>. Unknown flags and bad values return
 * TLSD_ERR_CONFIG with <err> naming the flag. Free with cli_args_free. */
int cli_parse(int argc, char **argv, struct cli_args *out, struct tlsd_error *err) TLSD_MUST_CHECK;

/* cli_args_free: release what cli_parse allocated. */
void cli_args_free(struct cli_args *args);

/* cli_usage: print the --help text to <out>. */
void cli_usage(FILE *out);

#endif
