/*
 * webout.c - webhooks out: the subscriptions and the webhooks consumer of
 * the event log (webout.h).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "event.h"
#include "msg.h"
#include "outbox.h"
#include "ticket.h"
#include "user.h"
#include "util.h"
#include "view.h"
#include "webout.h"

struct sub {
	const struct conf_webhook *hook;
	uint64_t events;		/* 1 << enum event_type */
	char *secret;			/* secret, or secret_file's bytes */
	size_t slen;
};

struct webout {
	const struct sup_conf *conf;
	size_t n;
	struct sub *subs;
};

/*
 * The events a webhook may carry: the tickets, their messages and notes,
 * the accounts and the canned replies.  Sign-ins, tokens and sessions
 * stay in the audit log (addresses and credentials' ids are not for
 * another system).
 */
bool
webout_offered(int type)
{
	switch (type) {
	case EV_TICKET_CREATED: case EV_TICKET_UPDATED:
	case EV_MESSAGE_POSTED: case EV_NOTE_ADDED:
	case EV_MESSAGE_EDITED: case EV_MESSAGE_DELETED:
	case EV_TICKET_RATED: case EV_TICKET_REMINDER_DUE:
	case EV_TICKET_ESCALATED:
	case EV_USER_CREATED: case EV_USER_CHANGED:
	case EV_USER_DISABLED: case EV_USER_ENABLED:
	case EV_CANNED_CREATED: case EV_CANNED_UPDATED:
	case EV_CANNED_DELETED:
		return true;
	default:
		return false;
	}
}

/*
 * The bits of the events list of hook into *mask.  SUP_ECONFIG with why
 * naming the first name that is no offered type.
 */
static sup_err
parse_events(const struct conf_webhook *hook, uint64_t *mask, char *why,
    size_t n)
{
	const char *p = hook->events, *end;

	*mask = 0;
	while (*p != '\0') {
		const char *a;
		size_t len;
		int t;
		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		str_trim(p, (size_t)(end - p), &a, &len);
		if (len == 1 && a[0] == '*') {
			for (t = 0; t < EV_MAX; t++)
				if (webout_offered(t))
					*mask |= 1ULL << t;
		} else if ((t = event_type_from(a, len)) < 0 ||
		    !webout_offered(t)) {
			snprintf(why, n, "[webhook.%s] events: %.*s is not an "
			    "event a webhook may carry (docs/webhooks.md lists "
			    "them)", hook->name, (int)(len > 60 ? 60 : len), a);
			return SUP_ECONFIG;
		} else
			*mask |= 1ULL << t;
		p = *end == ',' ? end + 1 : end;
	}
	return SUP_OK;
}

/*
 * Read the secret of hook's secret_file into sub (its trailing white
 * space cut).  SUP_ECONFIG with why; SUP_ENOMEM.
 */
static sup_err
read_secret(const struct conf_webhook *hook, struct sub *sub, char *why,
    size_t n)
{
	char buf[WEBOUT_SECRET_FILE_MAX + 1];
	ssize_t got;
	size_t len = 0;
	int fd;

	if ((fd = open(hook->secret_file, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(why, n, "[webhook.%s] secret_file: %s cannot be read: "
		    "%s", hook->name, hook->secret_file, strerror(errno));
		return SUP_ECONFIG;
	}
	while (len < sizeof(buf) && (got = read(fd, buf + len,
	    sizeof(buf) - len)) > 0)
		len += (size_t)got;
	close(fd);
	if (len > WEBOUT_SECRET_FILE_MAX) {
		snprintf(why, n, "[webhook.%s] secret_file: more than %d bytes",
		    hook->name, WEBOUT_SECRET_FILE_MAX);
		goto bad;
	}
	while (len > 0 && isspace((unsigned char)buf[len - 1]))
		len--;
	if (len < CONF_WEBHOOK_SECRET_MIN) {
		snprintf(why, n, "[webhook.%s] secret_file: %s holds fewer "
		    "than %d bytes", hook->name, hook->secret_file,
		    CONF_WEBHOOK_SECRET_MIN);
		goto bad;
	}
	if ((sub->secret = malloc(len + 1)) == NULL) {
		sodium_memzero(buf, sizeof(buf));
		return SUP_ENOMEM;
	}
	memcpy(sub->secret, buf, len);
	sub->secret[len] = '\0';
	sub->slen = len;
	sodium_memzero(buf, sizeof(buf));
	return SUP_OK;
bad:
	sodium_memzero(buf, sizeof(buf));
	return SUP_ECONFIG;
}

sup_err
webout_open(const struct sup_conf *conf, struct webout **out, char *why,
    size_t n)
{
	struct webout *w;
	sup_err e = SUP_OK;

	*out = NULL;
	why[0] = '\0';
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return SUP_ENOMEM;
	w->conf = conf;
	if (conf->nwebhooks > 0 &&
	    (w->subs = calloc(conf->nwebhooks, sizeof(*w->subs))) == NULL) {
		free(w);
		return SUP_ENOMEM;
	}
	for (size_t i = 0; i < conf->nwebhooks && e == SUP_OK; i++) {
		const struct conf_webhook *h = &conf->webhooks[i];
		struct sub *sub = &w->subs[i];
		sub->hook = h;
		w->n++;
		if ((e = parse_events(h, &sub->events, why, n)) != SUP_OK)
			break;
		if (h->secret_file[0] != '\0')
			e = read_secret(h, sub, why, n);
		else if ((sub->secret = strdup(h->secret)) == NULL)
			e = SUP_ENOMEM;
		else
			sub->slen = strlen(sub->secret);
	}
	if (e != SUP_OK) {
		webout_close(w);
		return e;
	}
	*out = w;
	return SUP_OK;
}

void
webout_close(struct webout *w)
{
	if (w == NULL)
		return;
	for (size_t i = 0; i < w->n; i++)
		if (w->subs[i].secret != NULL) {
			sodium_memzero(w->subs[i].secret, w->subs[i].slen);
			free(w->subs[i].secret);
		}
	free(w->subs);
	free(w);
}

sup_err
webout_target(const struct webout *w, const char *name, const char **url,
    const char **secret, size_t *slen)
{
	for (size_t i = 0; i < w->n; i++)
		if (strcmp(w->subs[i].hook->name, name) == 0) {
			*url = w->subs[i].hook->url;
			*secret = w->subs[i].secret;
			*slen = w->subs[i].slen;
			return SUP_OK;
		}
	return SUP_ENOTFOUND;
}

/* What one event's call works with. */
struct job {
	struct store *s;
	DB_TXN *txn;
	json_object *ev;		/* the event, parsed */
	int type;
	struct view v;			/* as staff see (the desk itself) */
	json_object *data;		/* the body's "data" */
};

/* Set data's member name to the User object of account id (0: null). */
static sup_err
add_user(struct job *j, const char *name, uint32_t id)
{
	json_object *rec, *pub;
	sup_err e;

	if (id == 0)
		return json_set_null(j->data, name) ? SUP_OK : SUP_ENOMEM;
	if ((e = user_get(j->s, j->txn, id, &rec)) == SUP_ENOTFOUND)
		return json_set_null(j->data, name) ? SUP_OK : SUP_ENOMEM;
	if (e != SUP_OK)
		return e;
	pub = user_public(rec, true);
	json_object_put(rec);
	if (pub == NULL || !json_set(j->data, name, pub))
		return SUP_ENOMEM;
	return SUP_OK;
}

/*
 * Set data's "ticket" to ticket uuid as staff see it (without its
 * messages); a ticket gone since (purged): {"id": uuid} only.
 */
static sup_err
add_ticket(struct job *j, const char *uuid_text, const uint8_t *uuid)
{
	struct ticket_tail tt;
	json_object *o = NULL;
	DBT d = { 0 };
	sup_err e;

	e = ticket_load_text(j->s, j->txn, j->v.reader, uuid, NULL, &d, &tt);
	if (e == SUP_ENOTFOUND || e == SUP_EDB) {
		if ((o = json_object_new_object()) == NULL ||
		    !json_set(o, "id", json_object_new_string(uuid_text))) {
			json_object_put(o);
			return SUP_ENOMEM;
		}
		return json_set(j->data, "ticket", o) ? SUP_OK : SUP_ENOMEM;
	}
	if (e != SUP_OK)
		return e;
	e = view_ticket_text(&j->v, d.data, d.size, false, &o);
	free(d.data);
	if (e != SUP_OK)
		return e;
	return json_set(j->data, "ticket", o) ? SUP_OK : SUP_ENOMEM;
}

/*
 * Set data's "message" to the event's message as staff see it (with
 * is_internal); a message deleted (or gone): its id and is_internal from
 * the event, never its content.
 */
static sup_err
add_message(struct job *j, const char *uuid_text)
{
	json_object *o = NULL, *ed, *v;
	uint8_t uuid[UUID_LEN];
	char *rec = NULL;
	size_t len;
	sup_err e = SUP_ENOTFOUND;

	if (!uuid_parse(uuid_text, strlen(uuid_text), uuid))
		return SUP_OK;
	if (j->type != EV_MESSAGE_DELETED &&
	    (e = msg_get_record(j->s, j->txn, uuid, &rec, &len)) == SUP_OK) {
		e = view_message(&j->v, rec, len, &o);
		free(rec);
		if (e != SUP_OK)
			return e;
		return json_set(j->data, "message", o) ? SUP_OK : SUP_ENOMEM;
	}
	if (e != SUP_ENOTFOUND)
		return e;
	if ((o = json_object_new_object()) == NULL ||
	    !json_set(j->data, "message", o) ||
	    !json_set(o, "id", json_object_new_string(uuid_text)))
		return SUP_ENOMEM;
	if (json_object_object_get_ex(j->ev, "data", &ed) &&
	    json_object_object_get_ex(ed, "is_internal", &v) &&
	    !json_set(o, "is_internal", json_object_get(v)))
		return SUP_ENOMEM;
	if (!json_set(o, "is_deleted", json_object_new_boolean(
	    j->type == EV_MESSAGE_DELETED)))
		return SUP_ENOMEM;
	return SUP_OK;
}

/* Copy the event's member from (when present) into data as to. */
static sup_err
copy_member(struct job *j, const char *from, const char *to)
{
	json_object *v;

	if (!json_object_object_get_ex(j->ev, from, &v) || v == NULL)
		return SUP_OK;
	return json_set(j->data, to, json_object_get(v)) ? SUP_OK :
	    SUP_ENOMEM;
}

/* The body's "data" of the event into j->data (docs/webhooks.md). */
static sup_err
hook_data(struct job *j)
{
	const char *tk = json_str(j->ev, "ticket");
	const char *mid = json_str(j->ev, "message");
	json_object *v;
	uint8_t tuuid[UUID_LEN];
	uint32_t actor = 0, user = 0;
	sup_err e;

	if ((j->data = json_object_new_object()) == NULL)
		return SUP_ENOMEM;
	if (json_object_object_get_ex(j->ev, "actor", &v) && v != NULL)
		actor = (uint32_t)json_object_get_int64(v);
	if (json_object_object_get_ex(j->ev, "user", &v) && v != NULL)
		user = (uint32_t)json_object_get_int64(v);
	if ((e = add_user(j, "actor", actor)) != SUP_OK)
		return e;
	if (tk != NULL && uuid_parse(tk, strlen(tk), tuuid) &&
	    (e = add_ticket(j, tk, tuuid)) != SUP_OK)
		return e;
	if (mid != NULL && (e = add_message(j, mid)) != SUP_OK)
		return e;
	switch (j->type) {
	case EV_USER_CREATED: case EV_USER_CHANGED:
	case EV_USER_DISABLED: case EV_USER_ENABLED:
		if ((e = add_user(j, "user", user)) != SUP_OK)
			return e;
		break;
	case EV_TICKET_RATED: case EV_TICKET_REMINDER_DUE:
	case EV_TICKET_ESCALATED:
	case EV_CANNED_CREATED: case EV_CANNED_UPDATED:
	case EV_CANNED_DELETED:
		if ((e = copy_member(j, "data", "details")) != SUP_OK)
			return e;
		break;
	default:
		break;
	}
	/* A message's edit carries its old and new text: the text is shown. */
	return copy_member(j, "changes", "changes");
}

/*
 * The body of a delivery id for the event into *body (a new string:
 * free()).  SUP_ENOMEM.
 */
static sup_err
make_body(struct job *j, const uint8_t id[UUID_LEN], char **body,
    size_t *len)
{
	char uuid[UUID_STRLEN + 1];
	json_object *o;
	const char *text;
	size_t n;

	*body = NULL;
	uuid_format(id, uuid);
	if ((o = json_object_new_object()) == NULL)
		return SUP_ENOMEM;
	if (!json_set(o, "id", json_object_new_string(uuid)) ||
	    !json_set(o, "event", json_object_new_string(
	    event_type_names[j->type])) ||
	    !json_set(o, "event_id", json_object_new_string(
	    json_str(j->ev, "id") != NULL ? json_str(j->ev, "id") : "")) ||
	    !json_set(o, "created_at", json_object_new_string(
	    json_str(j->ev, "at") != NULL ? json_str(j->ev, "at") : "")) ||
	    !json_set(o, "data", json_object_get(j->data)) ||
	    (text = json_object_to_json_string_length(o,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n)) ==
	    NULL || (*body = malloc(n + 1)) == NULL) {
		json_object_put(o);
		return SUP_ENOMEM;
	}
	memcpy(*body, text, n + 1);
	*len = n;
	json_object_put(o);
	return SUP_OK;
}

/* event_consume's fn: one event, a delivery per subscription chose it. */
static sup_err
on_event(struct store *s, DB_TXN *txn, void *ctx, int64_t seq,
    const char *text, size_t len)
{
	struct webout *w = ctx;
	struct sup_user sys = { .id = 0, .role = ROLE_ADMIN };
	struct job j = { .s = s, .txn = txn };
	struct json_tokener *tok;
	const char *type, *evid, *tk;
	uint8_t event_id[UUID_LEN], tuuid[UUID_LEN];
	bool any = false, have_view = false;
	sup_err e = SUP_OK;

	for (size_t i = 0; i < w->n; i++)
		if (w->subs[i].hook->enabled && w->subs[i].events != 0)
			any = true;
	if (!any)
		return SUP_OK;
	if ((tok = json_tokener_new()) == NULL)
		return SUP_ENOMEM;
	j.ev = json_tokener_parse_ex(tok, text, (int)len);
	json_tokener_free(tok);
	if (j.ev == NULL || (type = json_str(j.ev, "type")) == NULL) {
		fprintf(stderr, "support-worker: event %lld cannot be read; "
		    "no webhook for it\n", (long long)seq);
		goto out;
	}
	if ((j.type = event_type_from(type, strlen(type))) < 0 ||
	    !webout_offered(j.type))
		goto out;
	any = false;
	for (size_t i = 0; i < w->n; i++)
		if (w->subs[i].hook->enabled &&
		    (w->subs[i].events & (1ULL << j.type)))
			any = true;
	if (!any)
		goto out;
	view_begin(&j.v, s, txn, &sys);
	have_view = true;
	if ((e = hook_data(&j)) != SUP_OK)
		goto out;
	evid = json_str(j.ev, "id");
	tk = json_str(j.ev, "ticket");
	for (size_t i = 0; i < w->n && e == SUP_OK; i++) {
		const struct sub *sub = &w->subs[i];
		struct outbox_new d = { .kind = OUTBOX_WEBHOOK,
			.to = sub->hook->name, .label = type };
		char *body;
		if (!sub->hook->enabled || !(sub->events & (1ULL << j.type)))
			continue;
		uuid_gen_time(d.id, time_now_us());
		if (evid != NULL && uuid_parse(evid, strlen(evid), event_id))
			d.event = event_id;
		if (tk != NULL && uuid_parse(tk, strlen(tk), tuuid))
			d.ticket = tuuid;
		if ((e = make_body(&j, d.id, &body, &d.len)) != SUP_OK)
			break;
		d.message = body;
		e = outbox_add(s, txn, &d);
		free(body);
		if (e == SUP_EINVAL) {
			fprintf(stderr, "support-worker: the webhook of event "
			    "%lld to %s is refused by the outbox (too large?); "
			    "skipped\n", (long long)seq, sub->hook->name);
			e = SUP_OK;
		}
	}
out:
	if (have_view)
		view_end(&j.v);
	json_object_put(j.data);
	json_object_put(j.ev);
	return e;
}

sup_err
webout_consume(struct store *s, struct webout *w, long max, long *handled)
{
	return event_consume(s, OUTBOX_WEBHOOK_CONSUMER, max, on_event, w,
	    handled);
}
