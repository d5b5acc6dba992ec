/* fake_owner_death.h - for unit tests linked with
 * -Wl,--wrap=pthread_mutex_lock: the module under test takes its mutexes
 * through __wrap_pthread_mutex_lock, which, once armed, takes the lock and
 * then answers EOWNERDEAD as if its previous owner had died holding it. The
 * mutex itself is consistent, so pthread_mutex_consistent then fails with
 * EINVAL: the module's recovery error path runs, deterministically.
 *
 * in_child_within(): whether <fn>(<arg>) returns true in a child process
 * within <seconds> (a call that waits on a lock this process kept fails,
 * instead of hanging the test).
 */
#ifndef TLSD_TESTS_FAKE_OWNER_DEATH_H
#define TLSD_TESTS_FAKE_OWNER_DEATH_H

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/wait.h>
#include <unistd.h>

static bool fake_owner_dead_armed;

int __real_pthread_mutex_lock(pthread_mutex_t *m);
int __wrap_pthread_mutex_lock(pthread_mutex_t *m);

int __wrap_pthread_mutex_lock(pthread_mutex_t *m)
{
	int rc = __real_pthread_mutex_lock(m);

	if (rc == 0 && fake_owner_dead_armed) {
		fake_owner_dead_armed = false;
		return EOWNERDEAD;
	}
	return rc;
}

static bool in_child_within(unsigned seconds, bool (*fn)(void *arg), void *arg)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		alarm(seconds);
		_exit(fn(arg) ? 0 : 1);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return false;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

#endif
