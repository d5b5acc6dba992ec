/* tlsctl_target.h - where tlsctl finds tlsd: its command-line options and
 * tlsd's own config file (control.listen, control.tokenFile, stateDir,
 * pidFile), read with the same defaults tlsd uses. */
#ifndef TLSD_CTL_TLSCTL_TARGET_H
#define TLSD_CTL_TLSCTL_TARGET_H

#include <stdbool.h>

#include "common/err.h"
#include "ctl/tlsctl_http.h"

#define TLSCTL_PATH_MAX 4096

/* The options that say where; NULL = not given. */
struct tlsctl_options {
	const char *config;	/* -c: tlsd's JSON config */
	const char *control;	/* --control ADDR */
	const char *state_dir;	/* --state-dir DIR */
	const char *token_file;	/* --token-file FILE */
	const char *pid_file;	/* --pid-file FILE */
	long timeout_ms;
};

/* What they resolve to. Paths are absolute. */
struct tlsctl_where {
	char control[300];		/* "127.0.0.1:8001", "unix:/run/tlsd.sock", "off" */
	char token_file[TLSCTL_PATH_MAX];
	char pid_file[TLSCTL_PATH_MAX];	/* "" = none configured */
};

/* tlsctl_resolve: <o> over the config file (when -c names one) over
 * tlsd's defaults. A path given on tlsctl's command line is relative to
 * the current folder, one in the config to the config's folder (as tlsd
 * reads it). TLSD_ERR_CONFIG when the config does not read or a member
 * has the wrong type; <err> names the file and the key. */
int tlsctl_resolve(const struct tlsctl_options *o, struct tlsctl_where *w, struct tlsd_error *err) TLSD_MUST_CHECK;

/* tlsctl_target_open: <t> for the endpoint at <w>, with the token read
 * from w->token_file over TCP when <with_token> (a unix socket needs none;
 * without <with_token>, for GET /healthz, none is read or sent).
 * TLSD_ERR_CONFIG for an address tlsctl cannot use ("off", port 0) or a
 * token file that does not read. */
int tlsctl_target_open(const struct tlsctl_where *w, long timeout_ms, bool with_token, struct tlsctl_target *t,
		       struct tlsd_error *err) TLSD_MUST_CHECK;

#endif
