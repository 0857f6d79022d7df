/*
 * auth.h - who is asking: HTTP Basic, a bearer API token, or (only when
 * the admin trusts the web server to have checked it) REMOTE_USER.
 */
#ifndef SUP_AUTH_H
#define SUP_AUTH_H

#include "conf.h"
#include "req.h"
#include "store.h"

/*
 * Fill r->user from the request's credentials.  SUP_OK with r->user.rec
 * NULL when there are none; SUP_EUNAUTH when there are and they are wrong.
 * A client-sent header never stands for REMOTE_USER: only the CGI
 * variable the server sets is read, and only when conf says so.
 */
sup_err auth_request(struct store *s, const struct sup_conf *conf,
    struct sup_req *r);

#endif
