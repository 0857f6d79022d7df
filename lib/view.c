/*
 * view.c - stored records to API objects, per reader.
 */
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "view.h"

struct view_user {
	uint32_t id;
	json_object *rec;
};

int64_t
rec_int(json_object *rec, const char *name)
{
	json_object *v;

	return json_object_object_get_ex(rec, name, &v) ?
	    json_object_get_int64(v) : 0;
}

const char *
rec_str(json_object *rec, const char *name)
{
	json_object *v;

	return json_object_object_get_ex(rec, name, &v) &&
	    json_object_is_type(v, json_type_string) ?
	    json_object_get_string(v) : NULL;
}

bool
rec_bool(json_object *rec, const char *name)
{
	json_object *v;

	return json_object_object_get_ex(rec, name, &v) &&
	    json_object_get_boolean(v);
}

void
view_begin(struct view *v, struct store *s, DB_TXN *txn,
    const struct sup_user *reader)
{
	memset(v, 0, sizeof(*v));
	v->s = s;
	v->txn = txn;
	v->reader = reader;
}

void
view_end(struct view *v)
{
	for (size_t i = 0; i < v->nusers; i++)
		json_object_put(v->users[i].rec);
	free(v->users);
	memset(v, 0, sizeof(*v));
}

bool
view_can_see(const struct view *v, json_object *ticket)
{
	return user_is_staff(v->reader) ||
	    (uint32_t)rec_int(ticket, "user") == v->reader->id;
}

/* The public User object of id; each user is read once per view. */
static sup_err
user_object(struct view *v, uint32_t id, json_object **out)
{
	json_object *rec = NULL;
	sup_err e;
	size_t i;

	for (i = 0; i < v->nusers; i++)
		if (v->users[i].id == id) {
			rec = v->users[i].rec;
			break;
		}
	if (rec == NULL) {
		if ((e = user_get(v->s, v->txn, id, &rec)) != SUP_OK)
			return e;
		if (v->nusers == v->capusers) {
			size_t cap = v->capusers ? v->capusers * 2 : 4;
			struct view_user *u = realloc(v->users,
			    cap * sizeof(*u));
			if (u == NULL) {
				json_object_put(rec);
				return SUP_ENOMEM;
			}
			v->users = u;
			v->capusers = cap;
		}
		v->users[v->nusers].id = id;
		v->users[v->nusers++].rec = rec;
	}
	/* E-mail addresses only to staff and to the user themself. */
	*out = user_public(rec, user_is_staff(v->reader) ||
	    id == v->reader->id);
	return *out ? SUP_OK : SUP_ENOMEM;
}

static void
copy_field(json_object *to, json_object *from, const char *name)
{
	json_object *val;

	if (json_object_object_get_ex(from, name, &val))
		json_object_object_add(to, name, json_object_get(val));
	else
		json_object_object_add(to, name, NULL);
}

sup_err
view_message(struct view *v, json_object *msg, json_object **out)
{
	static const char *const fields[] = {
		"uuid", "ticket", "content", "content_html", "is_from_user",
		"is_internal", "attachments", "created_at",
	};
	json_object *o, *sender;
	sup_err e;

	*out = NULL;
	if ((e = user_object(v, (uint32_t)rec_int(msg, "user"), &sender)) !=
	    SUP_OK)
		return e;
	if ((o = json_object_new_object()) == NULL) {
		json_object_put(sender);
		return SUP_ENOMEM;
	}
	for (size_t i = 0; i < SUP_NELEM(fields); i++)
		copy_field(o, msg, fields[i]);
	/* The original client reads the author as "user"; "sender" too. */
	json_object_object_add(o, "user", sender);
	json_object_object_add(o, "sender", json_object_get(sender));
	*out = o;
	return SUP_OK;
}

/* The newest message of the ticket the reader may see, or NULL. */
static sup_err
last_message(struct view *v, const uint8_t ticket[UUID_LEN], json_object **out)
{
	uint8_t key[MSG_KEY_LEN];
	DBT k = { .data = key, .ulen = sizeof(key), .size = UUID_LEN,
		.flags = DB_DBT_USERMEM };
	DBT d = { .flags = DB_DBT_REALLOC };
	DBC *c;
	sup_err e = SUP_OK;
	int rc;

	*out = NULL;
	if ((rc = v->s->messages->cursor(v->s->messages, v->txn, &c, 0)) != 0)
		return store_err(rc, "cursor");
	/* Just past the ticket's range, then step back. */
	memcpy(key, ticket, UUID_LEN);
	memset(key + UUID_LEN, 0xff, MSG_KEY_LEN - UUID_LEN);
	k.size = MSG_KEY_LEN;
	rc = c->get(c, &k, &d, DB_SET_RANGE);
	if (rc == 0 || rc == DB_NOTFOUND)
		rc = c->get(c, &k, &d, rc == DB_NOTFOUND ? DB_LAST : DB_PREV);
	while (rc == 0 && k.size == MSG_KEY_LEN &&
	    memcmp(key, ticket, UUID_LEN) == 0) {
		json_object *msg;
		if ((e = store_parse(&d, &msg)) != SUP_OK)
			break;
		if (!rec_bool(msg, "is_internal") ||
		    user_is_staff(v->reader)) {
			e = view_message(v, msg, out);
			json_object_put(msg);
			break;
		}
		json_object_put(msg);
		rc = c->get(c, &k, &d, DB_PREV);
	}
	if (e == SUP_OK && rc != 0 && rc != DB_NOTFOUND)
		e = store_err(rc, "last message");
	free(d.data);
	c->close(c);
	return e;
}

sup_err
view_messages(struct view *v, const uint8_t ticket[UUID_LEN],
    const uint8_t *after_key, json_object *array)
{
	uint8_t key[MSG_KEY_LEN];
	DBT k = { .data = key, .ulen = sizeof(key), .flags = DB_DBT_USERMEM };
	DBT d = { .flags = DB_DBT_REALLOC };
	DBC *c;
	sup_err e = SUP_OK;
	int rc;

	if ((rc = v->s->messages->cursor(v->s->messages, v->txn, &c, 0)) != 0)
		return store_err(rc, "cursor");
	if (after_key != NULL) {
		memcpy(key, after_key, MSG_KEY_LEN);
		k.size = MSG_KEY_LEN;
		rc = c->get(c, &k, &d, DB_SET);
		if (rc == 0)
			rc = c->get(c, &k, &d, DB_NEXT);
	} else {
		memcpy(key, ticket, UUID_LEN);
		k.size = UUID_LEN;
		rc = c->get(c, &k, &d, DB_SET_RANGE);
	}
	while (rc == 0 && k.size == MSG_KEY_LEN &&
	    memcmp(key, ticket, UUID_LEN) == 0) {
		json_object *msg, *o;
		if ((e = store_parse(&d, &msg)) != SUP_OK)
			break;
		if (!rec_bool(msg, "is_internal") ||
		    user_is_staff(v->reader)) {
			e = view_message(v, msg, &o);
			if (e == SUP_OK)
				json_object_array_add(array, o);
		}
		json_object_put(msg);
		if (e != SUP_OK)
			break;
		rc = c->get(c, &k, &d, DB_NEXT);
	}
	if (e == SUP_OK && rc != 0 && rc != DB_NOTFOUND)
		e = store_err(rc, "messages");
	free(d.data);
	c->close(c);
	return e;
}

sup_err
view_ticket(struct view *v, json_object *t, bool with_messages,
    json_object **out)
{
	static const char *const fields[] = {
		"uuid", "number", "subject", "status", "priority",
		"created_at", "updated_at", "first_response_at",
		"resolved_at", "closed_at",
	};
	bool staff = user_is_staff(v->reader);
	json_object *o, *u, *last, *msgs;
	uint8_t uuid[UUID_LEN];
	const char *us = rec_str(t, "uuid");
	int64_t assignee = rec_int(t, "assignee");
	sup_err e;

	*out = NULL;
	if (us == NULL || !uuid_parse(us, strlen(us), uuid))
		return SUP_EDB;
	if ((o = json_object_new_object()) == NULL)
		return SUP_ENOMEM;
	for (size_t i = 0; i < SUP_NELEM(fields); i++)
		copy_field(o, t, fields[i]);
	if ((e = user_object(v, (uint32_t)rec_int(t, "user"), &u)) != SUP_OK)
		goto err;
	json_object_object_add(o, "user", u);
	u = NULL;
	if (assignee > 0 && (e = user_object(v, (uint32_t)assignee, &u)) !=
	    SUP_OK)
		goto err;
	json_object_object_add(o, "assignee", u);
	if ((e = last_message(v, uuid, &last)) != SUP_OK)
		goto err;
	json_object_object_add(o, "last_message", last);
	json_object_object_add(o, "message_count", json_object_new_int64(
	    rec_int(t, "public_count") + (staff ? rec_int(t, "note_count") :
	    0)));
	json_object_object_add(o, "unanswered_messages_count",
	    json_object_new_int64(rec_int(t, "unanswered")));
	if (with_messages) {
		if ((msgs = json_object_new_array()) == NULL) {
			e = SUP_ENOMEM;
			goto err;
		}
		json_object_object_add(o, "messages", msgs);
		if ((e = view_messages(v, uuid, NULL, msgs)) != SUP_OK)
			goto err;
	}
	*out = o;
	return SUP_OK;
err:
	json_object_put(o);
	return e;
}
