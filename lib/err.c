/*
 * err.c - names and sentences for sup_err.
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
	[SUP_ELIMIT] = { "ticket_limit_reached", "You have reached the maximum number of open tickets." },
	[SUP_ENOTFOUND] = { "not_found", "Not found." },
	[SUP_EMETHOD] = { "method_not_allowed", "Method not allowed." },
	[SUP_ECONFLICT] = { "invalid_transition", "The ticket cannot change to that status." },
	[SUP_ECLOSED] = { "ticket_closed", "The ticket is closed." },
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
	[SUP_ETHROTTLE] = { "too_many_attempts", "Too many failed logins; try again later." },
	[SUP_ECREDS] = { "invalid_credentials", "Wrong username, e-mail or password." },
	[SUP_EREGCLOSED] = { "registration_closed", "Registration is closed on this desk." },
	[SUP_ETIMEOUT] = { "request_timeout", "The request body did not arrive in time." },
};

const char *
sup_strerror(sup_err e)
{
	if ((unsigned)e >= SUP_ERR_MAX || errs[e].text == NULL)
		return "Unknown error.";
	return errs[e].text;
}

const char *
sup_errcode(sup_err e)
{
	if ((unsigned)e >= SUP_ERR_MAX || errs[e].code == NULL)
		return "internal_error";
	return errs[e].code;
}
