/*
 * webhook.h - the webhook in's route, part of the tickets program:
 *
 *   POST /api/support/webhook/   {email, subject, message, name?}, signed
 *                                (docs/api.md "Webhook")
 */
#ifndef SUP_CGI_WEBHOOK_H
#define SUP_CGI_WEBHOOK_H

#include "app.h"
#include "valid.h"

enum { WH_EMAIL, WH_SUBJECT, WH_MESSAGE, WH_NAME, WH_NFIELDS };
extern const struct field webhook_fields[WH_NFIELDS];

/* The route's handler (ROUTE_SIGNED: the body is read, not parsed). */
sup_err webhook_in(void *ctx, struct sup_req *r);

#define WEBHOOK_PATH "/api/support/webhook/"

#endif
