/*
 * err.c - names and sentences for sup_err: the shared errors' own, and
 * the tables the areas register for theirs (sup.h).
 */
#include "sup.h"

static const struct {
	const char *code;
	const char *text;
} errs[SUP_ERR_MAX] = {
	[SUP_OK] = { "ok", "Success." },
	[SUP_ENOMEM] = { "internal_error", "Out of memory." },
	[SUP_EINVAL] = { "invalid", "The request has invalid fields." },
	[SUP_EJSON] = { "invalid_json", "The body must be a JSON object." },
	[SUP_EUNKNOWN] = { "unknown_field", "The request has fields this endpoint does not take." },
	[SUP_EUNAUTH] = { "not_authenticated", "Authentication credentials were not provided or are wrong." },
	[SUP_EFORBIDDEN] = { "forbidden", "You do not have permission to do this." },
	[SUP_ENOTFOUND] = { "not_found", "Not found." },
	[SUP_EMETHOD] = { "method_not_allowed", "Method not allowed." },
	[SUP_ECONFLICT] = { "conflict", "That cannot be done in the current state." },
	[SUP_ERATE] = { "too_many_requests", "Too many attempts; try again later." },
	[SUP_ETOOLARGE] = { "payload_too_large", "The request body is too large." },
	[SUP_EMEDIA] = { "unsupported_media_type", "The body must be application/json or a urlencoded form." },
	[SUP_EEXIST] = { "already_exists", "That name is already taken." },
	[SUP_EDEADLOCK] = { "busy", "The store is busy; try again." },
	[SUP_EBUSY] = { "busy", "The store is busy; try again." },
	[SUP_ERECOVER] = { "busy", "The store is recovering; try again." },
	[SUP_EDB] = { "internal_error", "Internal error." },
	[SUP_EIO] = { "bad_request", "The request could not be read." },
	[SUP_ECONFIG] = { "internal_error", "The server is misconfigured." },
	[SUP_ECSRF] = { "csrf_failed", "CSRF token missing or incorrect." },
	[SUP_ETIMEOUT] = { "request_timeout", "The request body did not arrive in time." },
};

/*
 * The areas' tables, by area number: written by the constructors before
 * main, only read after.
 */
static const struct sup_errtab *areas[SUP_AREA_MAX];

void
sup_err_register(const struct sup_errtab *t)
{
	if (t->area > 0 && t->area < SUP_AREA_MAX)
		areas[t->area] = t;
}

const struct sup_errdef *
sup_errdef(sup_err e)
{
	const struct sup_errtab *t;
	unsigned area = (unsigned)e >> 8;

	if (area == 0 || area >= SUP_AREA_MAX || (t = areas[area]) == NULL)
		return NULL;
	for (size_t i = 0; i < t->n; i++)
		if (t->defs[i].err == (int)e)
			return &t->defs[i];
	return NULL;
}

sup_err
sup_errkind(sup_err e)
{
	const struct sup_errdef *d;

	if ((unsigned)e < SUP_ERR_MAX)
		return e;
	return (d = sup_errdef(e)) != NULL ? d->kind : SUP_EDB;
}

const char *
sup_strerror(sup_err e)
{
	const struct sup_errdef *d;

	if ((unsigned)e < SUP_ERR_MAX)
		return errs[e].text;
	return (d = sup_errdef(e)) != NULL ? d->text : "Unknown error.";
}

const char *
sup_errcode(sup_err e)
{
	const struct sup_errdef *d;

	if ((unsigned)e < SUP_ERR_MAX)
		return errs[e].code;
	return (d = sup_errdef(e)) != NULL ? d->code : "internal_error";
}
