/*
 * export.h - the tickets created in a window of time, with their
 * messages, as CSV (RFC 4180) or JSON, streamed: `supportctl
 * export_support_data` (docs/data.md).
 *
 * The tickets are found through the creation-order index (t_by_number:
 * numbers are given in creation order), read in batches of a short read
 * transaction each, and each batch's text is handed to the caller's
 * writer once the transaction has ended, so memory stays bounded by a
 * batch whatever the store's size and no writer waits on the export.
 */
#ifndef SUP_EXPORT_H
#define SUP_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

enum export_format { EXPORT_CSV, EXPORT_JSON };

/* The CSV columns, in their order (the header row). */
extern const char *const export_csv_columns[];

/*
 * Where the text goes: called with each batch's text, in order; an
 * error return stops the export with that error.
 */
typedef sup_err (*export_write_fn)(void *ctx, const char *p, size_t n);

struct export_stats {
	long tickets;		/* tickets written */
	long messages;		/* messages written (the CSV's rows) */
	long batches;		/* read transactions */
};

/*
 * Write every ticket created at or after since (µs) and at or before
 * until (µs) with its messages, staff's view (internal notes included),
 * in fmt, through write(ctx, ...).  SUP_EINVAL when since > until;
 * the store's errors; write's errors.  *st (when not NULL) counts what
 * was written, also on error.
 */
sup_err export_tickets(struct store *s, int64_t since, int64_t until,
    enum export_format fmt, export_write_fn write, void *ctx,
    struct export_stats *st);

/*
 * Append field p[0..n) to b as one CSV field: quoted (its quotes
 * doubled) when it holds a comma, a quote, CR or LF, else as it is.
 */
struct sbuf;
void export_csv_field(struct sbuf *b, const char *p, size_t n);

#endif
