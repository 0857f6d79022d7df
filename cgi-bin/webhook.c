/*
 * webhook.c - the webhook in's handler (webhook.h): another system opens a
 * ticket for a customer it knows by e-mail.  The call is authenticated by
 * its signature alone; the work is lib/desk/webin.c's.
 */
#include <stdio.h>
#include <string.h>

#include "ticket.h"
#include "user.h"
#include "webhook.h"
#include "webin.h"

const struct field webhook_fields[WH_NFIELDS] = {
	[WH_EMAIL] = { "email", F_STRING, FIELD_REQUIRED, 3, EMAIL_MAX,
		NULL, NULL },
	[WH_SUBJECT] = { "subject", F_STRING, FIELD_REQUIRED, 1, SUBJECT_MAX,
		NULL, NULL },
	[WH_MESSAGE] = { "message", F_TEXT, FIELD_REQUIRED, 1, CONTENT_MAX,
		NULL, NULL },
	/* The display name of an account made for the e-mail. */
	[WH_NAME] = { "name", F_STRING, FIELD_NULLABLE, 0, USERNAME_MAX,
		NULL, NULL },
};

/*
 * POST /api/support/webhook/ {email, subject, message, name?}
 * Anyone holding webhook_secret: X-Support-Timestamp and
 * X-Support-Signature sign the raw body; Idempotency-Key (optional)
 * makes a call safe to repeat; without one the signature is the key, so
 * the same signed call again (a replay) makes nothing either.  201
 * {"ticket_id"} (a repeat: the first answer again, with
 * Idempotent-Replayed: true); 400 bad fields or a bad
 * Idempotency-Key; 401 unsigned, wrongly signed, stale, or webhooks off;
 * 403 ticket_limit_reached or account_disabled; 409 the key with another
 * body; 413 a body over max_body_bytes; 415 not JSON.
 */
sup_err
webhook_in(void *ctx, struct sup_req *r)
{
	struct app *app = ctx;
	struct value v[WH_NFIELDS];
	struct webin_call c;
	struct webin_answer a;
	const char *key;
	char id[UUID_STRLEN + 1];
	json_object *body;
	int64_t now = time_now_us();
	sup_err e;

	if ((e = webin_verify(app->conf.webhook_secret,
	    req_env(r, "HTTP_X_SUPPORT_TIMESTAMP"),
	    req_env(r, "HTTP_X_SUPPORT_SIGNATURE"),
	    r->body != NULL ? r->body : "", r->body_len,
	    now / 1000000)) != SUP_OK)
		return e;
	key = req_env(r, "HTTP_IDEMPOTENCY_KEY");
	if (key != NULL && !webin_key_valid(key)) {
		snprintf(r->err_msg, sizeof(r->err_msg), "Idempotency-Key must "
		    "be 1 to %d printable ASCII characters.", WEBIN_KEY_MAX);
		return valid_fail(r, "Idempotency-Key", r->err_msg);
	}
	if ((e = req_parse_json(r)) != SUP_OK ||
	    (e = valid_json(r, r->json, webhook_fields, WH_NFIELDS, v)) !=
	    SUP_OK)
		return e;
	if (!user_email_valid(v[WH_EMAIL].str))
		return valid_fail(r, "email", "Must be an e-mail address.");
	c = (struct webin_call){
		.email = v[WH_EMAIL].str,
		.name = v[WH_NAME].present && !v[WH_NAME].is_null ?
		    v[WH_NAME].str : NULL,
		.subject = v[WH_SUBJECT].str,
		.subject_len = v[WH_SUBJECT].len,
		.message = v[WH_MESSAGE].str,
		.message_len = v[WH_MESSAGE].len,
		.key = key,
		.sig = req_env(r, "HTTP_X_SUPPORT_SIGNATURE"),
		.body = r->body != NULL ? r->body : "",
		.body_len = r->body_len,
	};
	if ((e = webin_receive(&app->store, &app->conf, &c, now, &a)) !=
	    SUP_OK)
		return e;
	if (a.replayed && (e = req_add_header(r, "Idempotent-Replayed: true"))
	    != SUP_OK)
		return e;
	uuid_format(a.ticket, id);
	if ((body = json_object_new_object()) == NULL ||
	    !json_set(body, "ticket_id", json_object_new_string(id))) {
		json_object_put(body);
		return SUP_ENOMEM;
	}
	return app_reply(r, a.status, body);
}
