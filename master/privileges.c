/* privileges.c - resolve the workers' user and group; drop to them. */
#include "master/privileges.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LOOKUP_BUF 16384

/* parse_id: <text> as a whole decimal number, else -1. */
static long parse_id(const char *text)
{
	char *end = NULL;
	long n;

	errno = 0;
	n = strtol(text, &end, 10);
	if (*text == '\0' || *end != '\0' || errno != 0 || n < 0 || n >= (long)UINT32_MAX)
		return -1;
	return n;
}

/* lookup_user: <name> (or a number) in the user database. */
static int lookup_user(const char *name, uid_t *uid, gid_t *gid, struct tlsd_error *err)
{
	struct passwd pw, *found = NULL;
	char buf[LOOKUP_BUF];
	long n = parse_id(name);

	if (n >= 0)
		getpwuid_r((uid_t)n, &pw, buf, sizeof(buf), &found);
	else
		getpwnam_r(name, &pw, buf, sizeof(buf), &found);
	if (found == NULL && n < 0)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "user: \"%s\": no such user", name);
	*uid = found != NULL ? found->pw_uid : (uid_t)n;
	*gid = found != NULL ? found->pw_gid : (gid_t)n;	/* a bare uid: a group of the same number */
	return TLSD_OK;
}

static int lookup_group(const char *name, gid_t *gid, struct tlsd_error *err)
{
	struct group gr, *found = NULL;
	char buf[LOOKUP_BUF];
	long n = parse_id(name);

	if (n >= 0) {
		*gid = (gid_t)n;
		return TLSD_OK;
	}
	getgrnam_r(name, &gr, buf, sizeof(buf), &found);
	if (found == NULL)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "group: \"%s\": no such group", name);
	*gid = found->gr_gid;
	return TLSD_OK;
}

/* resolve_named: "user" (and maybe "group") given: the ids they name, and
 * whether reaching them needs a switch this master can make. */
static int resolve_named(const struct tlsd_config *cfg, struct privileges *out, struct tlsd_error *err)
{
	GUARD(lookup_user(cfg->user, &out->uid, &out->gid, err));
	if (cfg->group != NULL)
		GUARD(lookup_group(cfg->group, &out->gid, err));
	if (geteuid() == 0) {
		out->drop = out->uid != 0 || out->gid != 0;
		return TLSD_OK;
	}
	if (out->uid != geteuid() || out->gid != getegid())
		return tlsd_error_set(err, TLSD_ERR_CONFIG,
				      "user: running the workers as \"%s\" (uid %u, gid %u) needs tlsd to start as root; "
				      "it runs as uid %u, gid %u", cfg->user, (unsigned)out->uid, (unsigned)out->gid,
				      (unsigned)geteuid(), (unsigned)getegid());
	return TLSD_OK;
}

int privileges_resolve(const struct tlsd_config *cfg, struct privileges *out, struct tlsd_error *err)
{
	*out = (struct privileges){ .uid = geteuid(), .gid = getegid() };
	if (cfg->user == NULL && cfg->group != NULL)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "group: needs \"user\" too");
	if (cfg->user == NULL) {
		out->root_by_default = geteuid() == 0;
		return TLSD_OK;
	}
	return resolve_named(cfg, out, err);
}

/* switch_ids: groups, group, user, in that order (see privileges.h). */
static int switch_ids(const struct privileges *p, struct tlsd_error *err)
{
	if (setgroups(1, &p->gid) < 0)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "user: setgroups(%u): %s", (unsigned)p->gid, strerror(errno));
	if (setresgid(p->gid, p->gid, p->gid) < 0)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "group: setresgid(%u): %s", (unsigned)p->gid, strerror(errno));
	if (setresuid(p->uid, p->uid, p->uid) < 0)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "user: setresuid(%u): %s", (unsigned)p->uid, strerror(errno));
	return TLSD_OK;
}

/* verify_ids: read back what switch_ids set; a kernel or a security
 * module that let a call succeed halfway is caught here. */
static int verify_ids(const struct privileges *p, struct tlsd_error *err)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg, groups[2];
	int n;

	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0 ||
	    ru != p->uid || eu != p->uid || su != p->uid || rg != p->gid || eg != p->gid || sg != p->gid)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "user: the ids did not all change to uid %u, gid %u",
				      (unsigned)p->uid, (unsigned)p->gid);
	n = getgroups(2, groups);
	if (n != 1 || groups[0] != p->gid)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "user: supplementary groups did not change to [%u]",
				      (unsigned)p->gid);
	if (p->uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "user: could switch back to root");
	return TLSD_OK;
}

/* verify_no_caps: no effective or permitted capability (the kernel clears
 * them when every uid leaves 0; a worker run as root keeps them). */
static int verify_no_caps(struct tlsd_error *err)
{
	struct __user_cap_header_struct head = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &head, data) < 0)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "user: capget: %s", strerror(errno));
	for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		if (data[i].effective != 0 || data[i].permitted != 0)
			return tlsd_error_set(err, TLSD_ERR_CONFIG, "user: capabilities left after the switch");
	return TLSD_OK;
}

int privileges_drop(const struct privileges *p, struct tlsd_error *err)
{
	if (p->drop) {
		GUARD(switch_ids(p, err));
		GUARD(verify_ids(p, err));
		if (p->uid != 0)
			GUARD(verify_no_caps(err));
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return tlsd_error_set(err, TLSD_ERR_CONFIG, "user: PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
	return TLSD_OK;
}

int privileges_share(const struct privileges *p, const char *path, bool is_dir, struct tlsd_error *err)
{
	int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | (is_dir ? O_DIRECTORY : 0);
	int fd, rc = TLSD_OK;

	if (!p->drop)
		return TLSD_OK;
	fd = open(path, flags);
	if (fd < 0)
		return errno == ENOENT ? TLSD_OK
				       : tlsd_error_set(err, TLSD_ERR_IO, "stateDir: %s: %s", path, strerror(errno));
	if (fchown(fd, (uid_t)-1, p->gid) < 0 || fchmod(fd, is_dir ? 0710 : 0640) < 0)
		rc = tlsd_error_set(err, TLSD_ERR_IO, "stateDir: %s: cannot give group %u access: %s", path,
				    (unsigned)p->gid, strerror(errno));
	close(fd);
	return rc;
}

int privileges_give_fd(const struct privileges *p, int fd, const char *what, struct tlsd_error *err)
{
	struct stat st;

	if (!p->drop || fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return TLSD_OK;
	if (fchown(fd, p->uid, p->gid) < 0)
		return tlsd_error_set(err, TLSD_ERR_IO, "%s: cannot hand it to uid %u: %s", what, (unsigned)p->uid,
				      strerror(errno));
	return TLSD_OK;
}
