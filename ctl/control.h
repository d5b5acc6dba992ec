/* control.h - the JSON-over-HTTP control endpoint in the master.
 *
 * libmicrohttpd runs inside the master's libev loop (its epoll descriptor
 * is one ev_io, its timeout one ev_timer): the master stays one thread, so
 * forking workers stays safe, and a handler runs between two events of the
 * supervisor, never beside it. Listens on loopback TCP (token required) or
 * a unix socket (mode 0600, no token). See docs/control-api.md.
 */
#ifndef TLSD_CTL_CONTROL_H
#define TLSD_CTL_CONTROL_H

#include <ev.h>

#include "common/err.h"
#include "ctl/api.h"

/* Request bodies over this size are answered 413. */
#define CONTROL_BODY_MAX (1024 * 1024)

struct control;

/* control_open: bind env->cfg->control_listen ("off": *<out> = NULL and 0),
 * load or create the token (TCP), and serve on <loop>. <env> is copied;
 * what it points to must outlive the endpoint. Errors name the config key
 * ("control.listen: 127.0.0.1:8001: Address already in use"). */
int control_open(const struct api_env *env, struct ev_loop *loop, struct control **out,
		 struct tlsd_error *err) TLSD_MUST_CHECK;

/* control_use_env: serve from <env> from now on (after a reload made a new
 * generation; the socket and token stay). NULL <ctl> is fine. */
void control_use_env(struct control *ctl, const struct api_env *env);

/* control_address: "127.0.0.1:8001" (port resolved) or "unix:/path". */
const char *control_address(const struct control *ctl);

/* control_close: stop serving, remove a unix socket file, free (NULL is
 * fine). */
void control_close(struct control *ctl);

#endif
