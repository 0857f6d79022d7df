/*
 * auditlog.h - the audit log for admins (docs/api.md "Audit log",
 * docs/pages.md "The audit log"): its API and its page, answered by the
 * users program, and the query both read.
 *
 *   GET /api/support/audit/?actor=&ticket=&from=&to=&before=&limit=
 *   GET /support/admin/audit/  (the same query, as a page)
 */
#ifndef SUP_AUDITLOG_H
#define SUP_AUDITLOG_H

#include "app.h"
#include "valid.h"

/* The query's fields (both routes declare them). */
#define AUDITLOG_NFIELDS 6
extern const struct field auditlog_fields[AUDITLOG_NFIELDS];

/*
 * GET /api/support/audit/ (admin): a page of the log, newest first,
 * {"results": [row...], "next": URL | null}.  200; 400 naming the field
 * (an actor or a ticket that is not there, a bad date, a bad place).
 */
sup_err auditlog_api(void *ctx, struct sup_req *r);

/* GET /support/admin/audit/ (admin): the same as a page with its filters. */
sup_err auditlog_page(void *ctx, struct sup_req *r);

#endif
