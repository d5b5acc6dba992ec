/* privileges.h - the user and group the workers run as.
 *
 * The master keeps the identity it was started with (it binds the
 * listeners, opens the logs, owns the state dir and rebinds nothing
 * later); each worker drops to "user"/"group" right after fork, before it
 * touches a client's byte: supplementary groups, then the group, then the
 * user (that order: once the user changed, the groups could no longer be
 * changed), each set for real, effective and saved ids; then it checks
 * that it got what it asked for and holds no capability, and forbids
 * itself new privileges (PR_SET_NO_NEW_PRIVS).
 *
 * The rule for root: a master started as root with no "user" still runs
 * its workers as root, with a warning at every start; "user": "root" says
 * so on purpose (no warning). A master not started as root can only run
 * its workers as itself: naming any other user is an error.
 */
#ifndef TLSD_MASTER_PRIVILEGES_H
#define TLSD_MASTER_PRIVILEGES_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/config.h"
#include "common/err.h"

struct privileges {
	bool drop;		/* workers switch to uid/gid */
	bool root_by_default;	/* root, and no "user" said so */
	uid_t uid;
	gid_t gid;
};

/* privileges_resolve: look up cfg->user and cfg->group (names or numbers)
 * for the identity the master runs as now. Errors (TLSD_ERR_CONFIG) name
 * the key: an unknown user or group, "group" without "user", a switch
 * that needs root. Reads the user database; call before fork. */
int privileges_resolve(const struct tlsd_config *cfg, struct privileges *out, struct tlsd_error *err) TLSD_MUST_CHECK;

/* privileges_drop: in a new worker, before it serves: switch to <p>'s ids
 * when p->drop, verify them (getresuid, getresgid, getgroups, no
 * effective or permitted capability left) and set PR_SET_NO_NEW_PRIVS.
 * Returns 0, or TLSD_ERR_CONFIG naming the step that failed (the worker
 * must then exit: it cannot serve as asked). */
int privileges_drop(const struct privileges *p, struct tlsd_error *err) TLSD_MUST_CHECK;

/* privileges_share: let the workers' group read the master's file (or
 * traverse its folder, when <is_dir>) at <path>: group p->gid, mode 0640
 * (0710 for a folder). The owner stays the master's user, so the state
 * dir's checks still hold and the workers can read, never write. A no-op
 * unless p->drop; a missing path is fine. Symbolic links are refused. */
int privileges_share(const struct privileges *p, const char *path, bool is_dir, struct tlsd_error *err) TLSD_MUST_CHECK;

/* privileges_give_fd: make the open file <fd> the workers' own (user and
 * group), so a worker can reopen its path for appending (access log
 * rotation). A no-op unless p->drop or when <fd> is not a regular file. */
int privileges_give_fd(const struct privileges *p, int fd, const char *what, struct tlsd_error *err) TLSD_MUST_CHECK;

#endif
