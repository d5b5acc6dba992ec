/* api_connections.h - GET /v1/connections: every connection the workers
 * hold, with Node's TLSSocket property names (SPEC "A connection object"),
 * read from common/conn_table without asking the workers. */
#ifndef TLSD_CTL_API_CONNECTIONS_H
#define TLSD_CTL_API_CONNECTIONS_H

#include "ctl/api.h"

/* GET: [{id, worker, pid, state, remoteAddress, remotePort, remoteFamily,
 * localAddress, localPort, servername, alpnProtocol, protocol, cipher
 * {name, version}, resumed, authorized, authorizationError,
 * peerCertificate {subject, issuer, valid_from, valid_to, fingerprint256,
 * serialNumber} | null, bytesRead, bytesWritten, startedAt}]. Values not
 * known yet (still handshaking) are null; servername and alpnProtocol are
 * false when the client sent none, as in Node. */
void api_connections_get(const struct api_env *env, const struct api_request *req, struct api_reply *reply);

#endif
