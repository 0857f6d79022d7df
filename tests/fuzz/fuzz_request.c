/*
 * fuzz_request - libFuzzer target for everything that parses what a client
 * sends: the query string, cookies, the path (routing), the JSON or
 * urlencoded body and the declared-field validation of the ticket
 * endpoints.
 *
 * Input: three lines (query string, cookie header, path) then the body: a
 * body starting with '{' is sent as JSON, any other as a urlencoded form.
 * Build with ./configure CC=clang --enable-fuzzing; the saved corpus in
 * corpus/request/ is replayed by ./test.sh.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "req.h"
#include "route.h"
#include "sess.h"
#include "ticket.h"
#include "../../cgi-bin/tquery.h"
#include "valid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct membuf {
	const char *p;
	size_t left;
};

static int
mem_read(void *ctx, char *buf, int n)
{
	struct membuf *m = ctx;
	size_t k = (size_t)n < m->left ? (size_t)n : m->left;

	memcpy(buf, m->p, k);
	m->p += k;
	m->left -= k;
	return (int)k;
}

static int
mem_write(void *ctx SUP_UNUSED, const char *buf SUP_UNUSED, int n)
{
	return n;
}

static sup_err
nothing(void *app SUP_UNUSED, struct sup_req *r SUP_UNUSED)
{
	return SUP_OK;
}

static const struct route routes[] = {
	{ "GET", "/api/support/tickets/", nothing, 0, ROUTE_NO_FIELDS },
	{ "POST", "/api/support/tickets/", nothing, 0, ROUTE_NO_FIELDS },
	{ "GET", "/api/support/tickets/{uuid}/", nothing, 0,
		ROUTE_NO_FIELDS },
	{ "GET", "/api/support/tickets/{uuid}/messages/", nothing, 0,
		ROUTE_NO_FIELDS },
	{ "GET", "/api/support/users/{id}/", nothing, 0, ROUTE_NO_FIELDS },
	{ "POST", "/api/support/users/{id}/password/", nothing, 0,
		ROUTE_NO_FIELDS },
};

static const struct field fields[] = {
	{ "subject", F_STRING, FIELD_REQUIRED, 1, SUBJECT_MAX, NULL, NULL },
	{ "content", F_TEXT, FIELD_REQUIRED, 1, CONTENT_MAX, NULL, "text" },
	{ "priority", F_ENUM, 0, 0, 0, ticket_priority_names, NULL },
	{ "assignee", F_INT, FIELD_NULLABLE, 1, UINT32_MAX, NULL, NULL },
	{ "is_internal", F_BOOL, 0, 0, 0, NULL, NULL },
	{ "created_after", F_TIME, 0, 0, 0, NULL, NULL },
};

/* Copy the next line of data into a new string. */
static char *
take_line(const uint8_t **data, size_t *size)
{
	const uint8_t *nl = memchr(*data, '\n', *size);
	size_t n = nl ? (size_t)(nl - *data) : *size;
	char *s = strndup((const char *)*data, n);

	*data += nl ? n + 1 : n;
	*size -= nl ? n + 1 : n;
	return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *query = take_line(&data, &size);
	char *cookie = take_line(&data, &size);
	char *path = take_line(&data, &size);
	char *env[8], len[32];
	struct membuf body = { (const char *)data, size };
	struct sup_io io = { mem_read, mem_write, &body };
	struct sup_user user = { .id = 7, .role = ROLE_USER };
	const struct route *route;
	struct ticket_query q;
	struct value vals[SUP_NELEM(fields)];
	struct sup_req r;
	size_t n = 0;

	if (query == NULL || cookie == NULL || path == NULL)
		goto out;
	snprintf(len, sizeof(len), "CONTENT_LENGTH=%zu", size);
	env[n++] = "REQUEST_METHOD=POST";
	env[n++] = size > 0 && data[0] != '{' ?
	    "CONTENT_TYPE=application/x-www-form-urlencoded" :
	    "CONTENT_TYPE=application/json";
	env[n++] = len;
	if (asprintf(&env[n], "QUERY_STRING=%s", query) < 0)
		goto out;
	n++;
	if (asprintf(&env[n], "HTTP_COOKIE=%s", cookie) < 0)
		goto free_env;
	n++;
	if (asprintf(&env[n], "PATH_INFO=%s", path) < 0)
		goto free_env;
	n++;
	env[n] = NULL;

	if (req_parse(&r, env, io, "/desk") == SUP_OK) {
		route_find(routes, SUP_NELEM(routes), &r, &route);
		req_cookie(&r, "sessionid");
		cookie_token_valid(req_cookie(&r, "csrftoken"));
		free(req_page_url(&r, "/desk", 3));
		tquery_parse(&r, &user, &q);
		if (req_read_body(&r, 1 << 20) == SUP_OK &&
		    req_parse_body(&r) == SUP_OK)
			valid_json(&r, r.json, fields, SUP_NELEM(fields), vals);
	}
	req_free(&r);
free_env:
	for (size_t i = 3; i < n; i++)
		free(env[i]);
out:
	free(query);
	free(cookie);
	free(path);
	return 0;
}
