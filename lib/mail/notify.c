/*
 * notify.c - the mail consumer of the event log (notify.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "event.h"
#include "msg.h"
#include "mailbuild.h"
#include "notify.h"
#include "outbox.h"
#include "ratelink.h"
#include "record.h"
#include "replytoken.h"
#include "ticket.h"
#include "tmpl.h"
#include "tstore.h"
#include "user.h"
#include "util.h"

#define RCPT_MAX 16		/* recipients of one event's mail */
#define MAIL_SUBJECT_MAX 2048

struct notify {
	const struct sup_conf *conf;
	struct tmpl_cache *tmpl;
	/* The reply token's key, from secret_file; have_key false: unset. */
	uint8_t reply_key[REPLY_KEY_LEN];
	bool have_key;
	/* The rating link's key (ratelink.h); have_rate_key false: unset. */
	uint8_t rate_key[REPLY_KEY_LEN];
	bool have_rate_key;
};

/* The kinds of mail, with their templates and subjects. */
enum mail_kind { MK_CREATED, MK_RESPONSE, MK_UPDATED, MK_RESOLVED, MK_REMINDER,
	MK_ESCALATION, MK_MAX };

static const struct {
	const char *name;	/* templates/mail/NAME.txt, NAME.html */
	const char *label;	/* the subject: [#number] label: subject */
} kinds[MK_MAX] = {
	[MK_CREATED] = { "ticket_created", "New ticket" },
	[MK_RESPONSE] = { "admin_response", "New reply" },
	[MK_UPDATED] = { "ticket_updated", "Ticket updated" },
	[MK_RESOLVED] = { "ticket_resolved", "Ticket resolved" },
	[MK_REMINDER] = { "ticket_reminder", "Waiting for your reply" },
	[MK_ESCALATION] = { "escalation_alert", "Escalation" },
};

sup_err
notify_open(const struct sup_conf *conf, struct notify **out)
{
	struct notify *n;
	char dir[4096];
	sup_err e;

	*out = NULL;
	if ((size_t)snprintf(dir, sizeof(dir), "%s/mail", conf->templates_dir)
	    >= sizeof(dir))
		return SUP_EINVAL;
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return SUP_ENOMEM;
	n->conf = conf;
	if ((e = tmpl_cache_open(dir, &n->tmpl)) != SUP_OK) {
		free(n);
		return e;
	}
	/* No secret_file: the mail's Reply-To is the desk's plain address. */
	n->have_key = reply_key_load(conf, n->reply_key) == SUP_OK;
	/* Nor a rating link in the "resolved" mail. */
	n->have_rate_key = ratelink_key_load(conf, n->rate_key) == SUP_OK;
	mail_init();
	*out = n;
	return SUP_OK;
}

void
notify_close(struct notify *n)
{
	if (n == NULL)
		return;
	tmpl_cache_close(n->tmpl);
	sodium_memzero(n->reply_key, sizeof(n->reply_key));
	sodium_memzero(n->rate_key, sizeof(n->rate_key));
	free(n);
}

/*
 * The signed reply address (docs/mailin.md): support_email with a token
 * of the ticket, the recipient and an expiry reply_token_days from now,
 * which support-mailin checks before a reply becomes a message from that
 * recipient.  A team address (user 0, no account), a desk without
 * secret_file, or a token that cannot be made: the plain support_email.
 */
void
mail_reply_to(const struct notify *nt, uint32_t ticket_number,
    uint32_t user, char *buf, size_t n)
{
	const struct sup_conf *c = nt->conf;
	char tok[REPLY_TOKEN_STRLEN + 1], *addr = NULL;

	snprintf(buf, n, "%s", c->support_email);
	if (!nt->have_key || user == 0 || reply_token_make(nt->reply_key,
	    ticket_number, user, reply_day(time_now_us()) +
	    c->reply_token_days, tok) != SUP_OK ||
	    reply_address(c->support_email, tok, &addr) != SUP_OK)
		return;
	if (strlen(addr) < n)
		snprintf(buf, n, "%s", addr);
	free(addr);
}

/* One recipient of an event's mail. */
struct rcpt {
	char addr[EMAIL_MAX + 1];
	char name[USERNAME_MAX * 4 + 1];
	uint32_t user;			/* 0: a team address */
};

/* What one event's consumer call works with. */
struct job {
	struct notify *nt;
	struct store *s;
	DB_TXN *txn;
	json_object *ev;		/* the event */
	uint32_t actor;
	char actor_name[USERNAME_MAX * 4 + 1];
	char actor_email[EMAIL_MAX + 1];
	struct record_ticket t;
	bool have_ticket;
	char *message_text;		/* a reply's text, or NULL */
	json_object *message_files;	/* its files' names: {"files":
					 * [{"name"}]}, or NULL (none) */
	struct rcpt rcpt[RCPT_MAX];
	size_t nrcpt;
};

/*
 * The user id's record, when the account is active: its address, its
 * name (display name, else username) and whether it takes mail.
 * SUP_ENOTFOUND when there is no such account.
 */
static sup_err
user_mail(struct job *j, uint32_t id, char *addr, size_t alen, char *name,
    size_t nlen, bool *wants)
{
	json_object *rec;
	const char *email, *dname;
	sup_err e;

	*wants = false;
	if ((e = user_get(j->s, j->txn, id, &rec)) != SUP_OK)
		return e;
	email = json_str(rec, "email");
	dname = json_str(rec, "display_name");
	if (dname == NULL || dname[0] == '\0')
		dname = json_str(rec, "username");
	snprintf(addr, alen, "%s", email != NULL ? email : "");
	snprintf(name, nlen, "%s", dname != NULL ? dname : "");
	*wants = user_is_active(rec) && addr[0] != '\0' &&
	    user_wants_mail(rec);
	json_object_put(rec);
	return SUP_OK;
}

/* Add account id as a recipient, unless it is the actor or takes none. */
static sup_err
add_user(struct job *j, uint32_t id)
{
	struct rcpt *r;
	bool wants;
	sup_err e;

	if (id == 0 || id == j->actor || j->nrcpt == RCPT_MAX)
		return SUP_OK;
	for (size_t i = 0; i < j->nrcpt; i++)
		if (j->rcpt[i].user == id)
			return SUP_OK;
	r = &j->rcpt[j->nrcpt];
	e = user_mail(j, id, r->addr, sizeof(r->addr), r->name,
	    sizeof(r->name), &wants);
	if (e == SUP_ENOTFOUND)
		return SUP_OK;
	if (e != SUP_OK)
		return e;
	if (wants) {
		r->user = id;
		j->nrcpt++;
	}
	return SUP_OK;
}

/* Add support_team_emails, but the actor's own address. */
static void
add_team(struct job *j)
{
	const char *p = j->nt->conf->support_team_emails, *end;

	while (*p != '\0' && j->nrcpt < RCPT_MAX) {
		const char *a;
		size_t len;
		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		str_trim(p, (size_t)(end - p), &a, &len);
		if (len > 0 && len <= EMAIL_MAX && !(strlen(j->actor_email) ==
		    len && strncasecmp(a, j->actor_email, len) == 0)) {
			struct rcpt *r = &j->rcpt[j->nrcpt++];
			memcpy(r->addr, a, len);
			r->addr[len] = '\0';
			r->name[0] = '\0';
			r->user = 0;
		}
		p = *end == ',' ? end + 1 : end;
	}
}

/* Render templates/mail/NAME.EXT with data into b.  SUP_ECONFIG ... */
static sup_err
render(struct notify *nt, const char *name, const char *ext,
    json_object *data, struct sbuf *b)
{
	char file[TMPL_NAME_MAX], err[256];
	const struct tmpl *t;
	sup_err e;

	snprintf(file, sizeof(file), "%s.%s", name, ext);
	if ((e = tmpl_get(nt->tmpl, file, &t, err, sizeof(err))) != SUP_OK) {
		fprintf(stderr, "support-worker: mail template %s\n", err);
		return e == SUP_ENOMEM ? e : SUP_ECONFIG;
	}
	e = tmpl_render(t, data, tmpl_sbuf_write, b);
	if (e == SUP_OK && b->failed)
		e = SUP_ENOMEM;
	return e;
}

/*
 * The template data of a mail to r (a new object), old_status the status
 * before a change (or NULL), reply its Reply-To address; NULL when out
 * of memory.
 */
static json_object *
mail_data(struct job *j, const struct rcpt *r, const char *old_status,
    const char *reply)
{
	const struct sup_conf *c = j->nt->conf;
	json_object *d = json_object_new_object(), *ed, *v;
	char uuid[UUID_STRLEN + 1], url[1024] = "";
	size_t blen = strlen(c->base_url);

	if (d == NULL)
		return NULL;
	uuid_format(j->t.uuid, uuid);
	while (blen > 0 && c->base_url[blen - 1] == '/')
		blen--;
	if (blen > 0)
		snprintf(url, sizeof(url), "%.*s/support/tickets/%s/",
		    (int)blen, c->base_url, uuid);
	if (!json_set(d, "ticket_number", json_object_new_int64(j->t.number)) ||
	    !json_set(d, "ticket_subject",
	    json_object_new_string(j->t.subject)) ||
	    !json_set(d, "ticket_status", json_object_new_string(
	    ticket_status_names[j->t.status])) ||
	    (url[0] != '\0' && !json_set(d, "ticket_url",
	    json_object_new_string(url))) ||
	    (old_status != NULL && !json_set(d, "ticket_old_status",
	    json_object_new_string(old_status))) ||
	    (j->message_text != NULL && !json_set(d, "message_text",
	    json_object_new_string(j->message_text))) ||
	    (j->message_files != NULL && !json_set(d, "message_files",
	    json_object_get(j->message_files))) ||
	    !json_set(d, "recipient_name", json_object_new_string(
	    r->name[0] ? r->name : r->addr)) ||
	    !json_set(d, "actor_name", json_object_new_string(
	    j->actor_name[0] ? j->actor_name : "The support desk")) ||
	    !json_set(d, "desk_email", json_object_new_string(
	    c->support_email)) ||
	    !json_set(d, "reply_address", json_object_new_string(reply))) {
		json_object_put(d);
		return NULL;
	}
	/* A reminder's days, an escalation's hours (remind.h). */
	if (json_object_object_get_ex(j->ev, "data", &ed)) {
		if (json_object_object_get_ex(ed, "days", &v) &&
		    !json_set(d, "waiting_days", json_object_new_int64(
		    json_object_get_int64(v))))
			goto fail;
		if (json_object_object_get_ex(ed, "hours", &v) &&
		    !json_set(d, "waiting_hours", json_object_new_int64(
		    json_object_get_int64(v))))
			goto fail;
	}
	return d;
fail:
	json_object_put(d);
	return NULL;
}

/*
 * Add to d the rating links of the "resolved" mail to r (ratelink.h):
 * rate_good_url and rate_bad_url, BASE_URL/support/rate/?t=TOKEN&r=...,
 * when r is the ticket's customer and the desk has base_url and
 * secret_file; nothing otherwise (the mail says to rate on the ticket's
 * page).  false when out of memory.
 */
static bool
add_rate_links(struct job *j, const struct rcpt *r, json_object *d)
{
	const struct sup_conf *c = j->nt->conf;
	char tok[REPLY_TOKEN_STRLEN + 1], url[1024];
	size_t blen = strlen(c->base_url);
	int n;

	while (blen > 0 && c->base_url[blen - 1] == '/')
		blen--;
	if (!j->nt->have_rate_key || blen == 0 || r->user == 0 ||
	    r->user != j->t.user || j->t.number <= 0 ||
	    j->t.number > UINT32_MAX ||
	    ratelink_make(j->nt->rate_key, (uint32_t)j->t.number, r->user,
	    reply_day(time_now_us()) + RATELINK_DAYS, tok) != SUP_OK)
		return true;
	n = snprintf(url, sizeof(url), "%.*s" RATELINK_PATH "?t=%s&r=good",
	    (int)blen, c->base_url, tok);
	if (n < 0 || (size_t)n >= sizeof(url))
		return true;
	if (!json_set(d, "rate_good_url", json_object_new_string(url)))
		return false;
	/* The same link but its last word. */
	memcpy(url + n - 4, "bad", 4);
	return json_set(d, "rate_bad_url", json_object_new_string(url));
}

/*
 * Queue the mail of kind k to each recipient of j.  A message that cannot
 * be built (an address GMime refuses) is logged and skipped.
 */
static sup_err
queue_mail(struct job *j, enum mail_kind k, const char *old_status)
{
	const struct sup_conf *c = j->nt->conf;
	const char *domain = mail_domain(c->support_email);
	char subject[MAIL_SUBJECT_MAX], mid[UUID_STRLEN + 300];
	char tid[UUID_STRLEN + 300], reply[EMAIL_MAX + 64];
	char uuid[UUID_STRLEN + 1];
	const char *evid = json_str(j->ev, "id");
	uint8_t event_id[UUID_LEN];
	sup_err e = SUP_OK;

	snprintf(subject, sizeof(subject), "[#%lld] %s: %s",
	    (long long)j->t.number, kinds[k].label, j->t.subject);
	uuid_format(j->t.uuid, uuid);
	snprintf(tid, sizeof(tid), "%s@%s", uuid, domain);
	for (size_t i = 0; i < j->nrcpt && e == SUP_OK; i++) {
		struct rcpt *r = &j->rcpt[i];
		struct sbuf text = { 0 }, html = { 0 };
		struct outbox_new d = { .kind = OUTBOX_MAIL, .to = r->addr,
			.ticket = j->t.uuid };
		struct mail_msg m = { 0 };
		json_object *data;
		char *bytes = NULL;
		size_t len;

		mail_reply_to(j->nt, (uint32_t)j->t.number, r->user, reply,
		    sizeof(reply));
		if ((data = mail_data(j, r, old_status, reply)) == NULL)
			return SUP_ENOMEM;
		if (k == MK_RESOLVED && !add_rate_links(j, r, data)) {
			json_object_put(data);
			return SUP_ENOMEM;
		}
		if ((e = render(j->nt, kinds[k].name, "txt", data, &text)) !=
		    SUP_OK || (e = render(j->nt, kinds[k].name, "html", data,
		    &html)) != SUP_OK)
			goto next;
		uuid_gen_time(d.id, time_now_us());
		uuid_format(d.id, mid);
		snprintf(mid + UUID_STRLEN, sizeof(mid) - UUID_STRLEN, "@%s",
		    domain);
		m.from.addr = c->support_email;
		m.from.name = "Support";
		m.to.addr = r->addr;
		m.to.name = r->name;
		m.reply_to.addr = reply;
		m.subject = subject;
		m.message_id = mid;
		m.thread_id = tid;
		m.date_us = time_now_us();
		m.text = text.p != NULL ? text.p : "";
		m.text_len = text.len;
		m.html = html.p != NULL ? html.p : "";
		m.html_len = html.len;
		if ((e = mail_build(&m, &bytes, &len)) == SUP_EINVAL) {
			fprintf(stderr, "support-worker: the mail to %s about "
			    "ticket %lld cannot be built; skipped\n", r->addr,
			    (long long)j->t.number);
			e = SUP_OK;
			goto next;
		}
		if (e != SUP_OK)
			goto next;
		if (evid != NULL && uuid_parse(evid, strlen(evid), event_id))
			d.event = event_id;
		d.message = bytes;
		d.len = len;
		e = outbox_add(j->s, j->txn, &d);
		if (e == SUP_EINVAL) {
			fprintf(stderr, "support-worker: the mail to %s about "
			    "ticket %lld is refused by the outbox; skipped\n",
			    r->addr, (long long)j->t.number);
			e = SUP_OK;
		}
next:
		free(bytes);
		free(text.p);
		free(html.p);
		json_object_put(data);
	}
	return e;
}

/* changes.status of the event: [from, to] names, or false. */
static bool
status_change(json_object *ev, const char **from, const char **to)
{
	json_object *ch, *st;

	if (!json_object_object_get_ex(ev, "changes", &ch) ||
	    !json_object_object_get_ex(ch, "status", &st) ||
	    !json_object_is_type(st, json_type_array) ||
	    json_object_array_length(st) != 2)
		return false;
	*from = json_object_get_string(json_object_array_get_idx(st, 0));
	*to = json_object_get_string(json_object_array_get_idx(st, 1));
	return *to != NULL;
}

/*
 * The names of the files of a stored message rec[0..len) into
 * j->message_files ({"files": [{"name"}, ...]}: the mail's templates
 * list them), left NULL when it has none.  SUP_ENOMEM.
 */
static sup_err
message_files(struct job *j, const char *rec, size_t len)
{
	json_tokener *tok = json_tokener_new();
	json_object *o = NULL, *atts, *list = NULL, *f, *name;
	sup_err e = SUP_OK;
	size_t n;

	if (tok == NULL)
		return SUP_ENOMEM;
	o = json_tokener_parse_ex(tok, rec, (int)len);
	json_tokener_free(tok);
	if (o == NULL || !json_object_object_get_ex(o, "attachments", &atts) ||
	    !json_object_is_type(atts, json_type_array) ||
	    (n = json_object_array_length(atts)) == 0)
		goto out;
	if ((list = json_object_new_array()) == NULL) {
		e = SUP_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (!json_object_object_get_ex(json_object_array_get_idx(atts,
		    i), "name", &name))
			continue;
		if ((f = json_object_new_object()) == NULL ||
		    json_object_array_add(list, f) != 0) {
			json_object_put(f);
			e = SUP_ENOMEM;
			goto out;
		}
		if (!json_set(f, "name", json_object_get(name))) {
			e = SUP_ENOMEM;
			goto out;
		}
	}
	if ((j->message_files = json_object_new_object()) == NULL) {
		e = SUP_ENOMEM;
		goto out;
	}
	/* json_set takes list, or releases it. */
	if (!json_set(j->message_files, "files", list))
		e = SUP_ENOMEM;
	list = NULL;
out:
	json_object_put(list);
	json_object_put(o);
	return e;
}

/*
 * The text of the event's message into j->message_text, when it is a
 * public one.  false when the message is internal (or no message at all:
 * then nothing of it may be mailed), or cannot be read.
 */
static sup_err
public_text(struct job *j, bool *public)
{
	struct record_message m;
	const char *mid = json_str(j->ev, "message");
	uint8_t uuid[UUID_LEN];
	char *rec = NULL;
	size_t len, clen;
	sup_err e;

	*public = false;
	if (mid == NULL || !uuid_parse(mid, strlen(mid), uuid))
		return SUP_OK;
	if ((e = msg_get_record(j->s, j->txn, uuid, &rec, &len)) != SUP_OK)
		return e == SUP_ENOTFOUND ? SUP_OK : e;
	if ((e = record_message_decode(rec, len, &m)) == SUP_OK &&
	    !m.internal && (e = record_message_content(rec, len,
	    &j->message_text, &clen)) == SUP_OK) {
		*public = true;
		e = message_files(j, rec, len);
	}
	free(rec);
	return e == SUP_EDB ? SUP_OK : e;
}

/* The event's mail: who gets which, by its type and the switches. */
static sup_err
event_mail(struct job *j, int type)
{
	const struct sup_conf *c = j->nt->conf;
	const char *from = NULL, *to = NULL;
	json_object *data, *v;
	bool from_user = false;

	switch (type) {
	case EV_TICKET_CREATED:
		if (!c->notify_ticket_created)
			return SUP_OK;
		add_team(j);
		return queue_mail(j, MK_CREATED, NULL);
	case EV_MESSAGE_POSTED:
		if (json_object_object_get_ex(j->ev, "data", &data) &&
		    json_object_object_get_ex(data, "from_user", &v))
			from_user = json_object_get_boolean(v);
		/*
		 * A staff reply, to the customer.  A note is its own event
		 * type; the message is checked again all the same: an
		 * internal one is never quoted to anyone, nor mailed.
		 */
		if (from_user || !c->notify_admin_response)
			return SUP_OK;
		{
			bool public;
			sup_err e;
			if ((e = public_text(j, &public)) != SUP_OK)
				return e;
			if (!public)
				return SUP_OK;
			if ((e = add_user(j, j->t.user)) != SUP_OK)
				return e;
		}
		return queue_mail(j, MK_RESPONSE, NULL);
	case EV_TICKET_UPDATED: {
		sup_err e;
		if (!status_change(j->ev, &from, &to))
			return SUP_OK;
		if (strcmp(to, "resolved") == 0 && c->notify_ticket_resolved) {
			if ((e = add_user(j, j->t.user)) != SUP_OK ||
			    (e = queue_mail(j, MK_RESOLVED, from)) != SUP_OK)
				return e;
			j->nrcpt = 0;
			if (!c->notify_ticket_updated)
				return SUP_OK;
			if ((e = add_user(j, j->t.assignee)) != SUP_OK)
				return e;
			return queue_mail(j, MK_UPDATED, from);
		}
		if (!c->notify_ticket_updated)
			return SUP_OK;
		if ((e = add_user(j, j->t.user)) != SUP_OK ||
		    (e = add_user(j, j->t.assignee)) != SUP_OK)
			return e;
		return queue_mail(j, MK_UPDATED, from);
	}
	case EV_TICKET_REMINDER_DUE:
		/*
		 * To the customer, while the ticket still waits for them (a
		 * reply or a change since the event: the reminder is moot).
		 */
		if (j->t.status != ST_WAITING_FOR_USER)
			return SUP_OK;
		{
			sup_err e;
			if ((e = add_user(j, j->t.user)) != SUP_OK)
				return e;
		}
		return queue_mail(j, MK_REMINDER, NULL);
	case EV_TICKET_ESCALATED:
		/* To the team and the assignee, while it still waits. */
		if (!c->notify_escalation_alerts ||
		    (j->t.status != ST_OPEN &&
		    j->t.status != ST_WAITING_FOR_ADMIN))
			return SUP_OK;
		add_team(j);
		{
			sup_err e;
			if ((e = add_user(j, j->t.assignee)) != SUP_OK)
				return e;
		}
		return queue_mail(j, MK_ESCALATION, NULL);
	default:
		/* note.added among them: an internal note is never mailed. */
		return SUP_OK;
	}
}

/* event_consume's fn: one event. */
static sup_err
on_event(struct store *s, DB_TXN *txn, void *ctx, int64_t seq,
    const char *text, size_t len)
{
	struct notify *nt = ctx;
	struct job j = { .nt = nt, .s = s, .txn = txn };
	struct sup_user sys = { .id = 0, .role = ROLE_ADMIN };
	struct json_tokener *tok;
	const char *type, *tk;
	json_object *v;
	uint8_t tuuid[UUID_LEN];
	sup_err e = SUP_OK;
	int t;

	if (nt->conf->support_email[0] == '\0')
		return SUP_OK;	/* no mail is made without a From */
	if ((tok = json_tokener_new()) == NULL)
		return SUP_ENOMEM;
	j.ev = json_tokener_parse_ex(tok, text, (int)len);
	json_tokener_free(tok);
	if (j.ev == NULL || (type = json_str(j.ev, "type")) == NULL) {
		fprintf(stderr, "support-worker: event %lld cannot be read; "
		    "skipped\n", (long long)seq);
		goto out;
	}
	t = event_type_from(type, strlen(type));
	if (t != EV_TICKET_CREATED && t != EV_TICKET_UPDATED &&
	    t != EV_MESSAGE_POSTED && t != EV_TICKET_REMINDER_DUE &&
	    t != EV_TICKET_ESCALATED)
		goto out;
	if ((tk = json_str(j.ev, "ticket")) == NULL ||
	    !uuid_parse(tk, strlen(tk), tuuid))
		goto out;
	if (json_object_object_get_ex(j.ev, "actor", &v) && v != NULL)
		j.actor = (uint32_t)json_object_get_int64(v);
	if (j.actor != 0) {
		bool wants;
		if ((e = user_mail(&j, j.actor, j.actor_email,
		    sizeof(j.actor_email), j.actor_name, sizeof(j.actor_name),
		    &wants)) == SUP_ENOTFOUND)
			e = SUP_OK;
		if (e != SUP_OK)
			goto out;
	}
	e = ticket_load(s, txn, &sys, tuuid, 0, &j.t);
	if (e == SUP_ENOTFOUND || e == SUP_EDB) {
		e = SUP_OK;	/* gone since: nothing to tell */
		goto out;
	}
	if (e != SUP_OK)
		goto out;
	j.have_ticket = true;
	e = event_mail(&j, t);
out:
	if (j.have_ticket)
		record_ticket_clear(&j.t);
	free(j.message_text);
	json_object_put(j.message_files);
	json_object_put(j.ev);
	return e;
}

sup_err
notify_consume(struct store *s, struct notify *n, long max, long *handled)
{
	return event_consume(s, OUTBOX_MAIL_CONSUMER, max, on_event, n,
	    handled);
}
