/*
 * reports.h - the support statistics for staff (docs/reports.md), as an
 * API and as the dashboard page.  Part of the tickets program.
 *
 *   GET /api/support/stats/?days=N | ?from=DATE&to=DATE   the report
 *   GET /support/stats/?days=N | ?from=DATE&to=DATE       the dashboard
 */
#ifndef SUP_REPORTS_H
#define SUP_REPORTS_H

#include "app.h"
#include "valid.h"

#define REPORTS_PATH "/api/support/stats/"
#define REPORTS_PAGE "/support/stats/"

/* The window's fields (both routes): days, from, to. */
#define REPORTS_NFIELDS 3
extern const struct field reports_fields[REPORTS_NFIELDS];

sup_err reports_api(void *ctx, struct sup_req *r);
sup_err reports_page(void *ctx, struct sup_req *r);

#endif
