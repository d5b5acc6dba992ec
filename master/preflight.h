/* preflight.h - what --check looks at beyond the config itself: every
 * file and folder a start opens or creates, checked without creating,
 * changing or leaving anything (stat, access for the effective ids, an
 * open for appending of an access log that exists).
 *
 * - accessLog (a path): the file opens for appending, or its folder
 *   exists and the master may create files in it;
 * - stateDir: a writable folder, or a folder that may be created (its
 *   parent exists and is writable);
 * - control.listen "unix:PATH": the socket's folder exists, writable;
 *   control.tokenFile, when set: readable;
 * - pidFile: its folder exists, writable (the file is renamed into it);
 * - with "user": every folder above the state dir and the access log can
 *   be traversed by that user (the workers read context files and reopen
 *   the log by path).
 */
#ifndef TLSD_MASTER_PREFLIGHT_H
#define TLSD_MASTER_PREFLIGHT_H

#include "common/config.h"
#include "master/privileges.h"

/* preflight_paths: log one error per problem ("check: KEY: PATH: what is
 * wrong") and return how many there were (0: a start would find them). */
int preflight_paths(const struct tlsd_config *cfg, const struct privileges *priv);

#endif
