/*
 * auth.h - who is asking: HTTP Basic, a bearer API token, (only when
 * the admin trusts the web server to have checked it) REMOTE_USER, or the
 * session cookie.
 */
#ifndef SUP_AUTH_H
#define SUP_AUTH_H

#include "conf.h"
#include "req.h"
#include "store.h"

/*
 * Fill r->user from the request's credentials, tried in this order: the
 * Authorization header (Basic or Bearer; when present it decides), then
 * REMOTE_USER (when trusted; an unknown name gets an account of role user),
 * then the "sessionid" cookie (r->by_cookie and r->csrf are set then; an
 * unknown or expired session is anonymous, not an error).  SUP_OK with
 * r->user.rec NULL when there are none; SUP_EUNAUTH when there are and
 * they are wrong.
 * A client-sent header never stands for REMOTE_USER: only the CGI
 * variable the server sets is read, and only when conf says so.
 */
sup_err auth_request(struct store *s, const struct sup_conf *conf,
    struct sup_req *r);

#endif
