/*
 * sup.h - what every part of libsupport shares: the errors and a few
 * attributes.  lib/ never exits and never prints to stdout; it returns one of
 * these and the programs in cgi-bin/ turn it into an HTTP status.
 */
#ifndef SUP_H
#define SUP_H

#include <stddef.h>
#include <stdint.h>

/*
 * The errors every layer shares.  They say what kind of thing went wrong,
 * not which rule of which area said no: an area's own errors are its own
 * (below).
 */
typedef enum sup_err {
	SUP_OK = 0,
	SUP_ENOMEM,		/* out of memory */
	SUP_EINVAL,		/* bad input: a field, a query parameter */
	SUP_EJSON,		/* the body is not a JSON object */
	SUP_EUNKNOWN,		/* a field or parameter nobody asked for */
	SUP_EUNAUTH,		/* no or wrong credentials */
	SUP_EFORBIDDEN,		/* authenticated, but not allowed */
	SUP_ENOTFOUND,		/* no such thing, or not the caller's */
	SUP_EMETHOD,		/* the path exists, the method does not */
	SUP_ECONFLICT,		/* the state does not allow it */
	SUP_ERATE,		/* too many attempts: wait (429) */
	SUP_ETOOLARGE,		/* body over the configured cap */
	SUP_EMEDIA,		/* body of a type the endpoint does not take */
	SUP_EEXIST,		/* unique key already taken */
	SUP_EDEADLOCK,		/* lock conflict: the transaction may be retried */
	SUP_EBUSY,		/* still deadlocked after the bounded retries */
	SUP_ERECOVER,		/* the environment needs recovery: reopen it */
	SUP_EDB,		/* any other store failure */
	SUP_EIO,		/* reading the request or writing the response */
	SUP_ECONFIG,		/* the configuration is unusable */
	SUP_ECSRF,		/* a cookie-authenticated write without its token */
	SUP_ETIMEOUT,		/* the body did not come within body_timeout_s */
	SUP_ERR_MAX
} sup_err;

/*
 * An area's own errors (a closed ticket, a throttled login, ...) are
 * declared in the area's header, numbered SUP_ERR_AREA(its area, 1),
 * SUP_ERR_AREA(its area, 2), ..., with a table that gives each one its
 * code, its sentence and the shared error it is a kind of: the kind is
 * what cgi-bin/ turns into an HTTP status, so a new error of an area
 * needs no change anywhere else.  The area's file registers its table
 * with SUP_ERRORS (a constructor: the table is there whenever the code
 * that can return its errors is linked in).  An area has a number here,
 * once; nothing else is listed centrally.
 */
enum sup_area {
	SUP_AREA_USERS = 1,
	SUP_AREA_SESSIONS,
	SUP_AREA_TICKETS,
	SUP_AREA_MESSAGES,
	SUP_AREA_WEBIN,
	SUP_AREA_STATS,
	SUP_AREA_ATTACH,
	SUP_AREA_MAX = 64
};
#define SUP_ERR_AREA(area, n) ((area) << 8 | (n))
/* e.g. #define TICKET_ECLOSED ((sup_err)SUP_ERR_AREA(SUP_AREA_TICKETS, 3)) */

struct sup_errdef {
	int err;		/* SUP_ERR_AREA(area, n) */
	sup_err kind;		/* the shared error it is a kind of */
	const char *code;	/* snake_case, for the JSON error envelope */
	const char *text;	/* a sentence for the API and the logs */
	const char *heading;	/* an error page's heading, or NULL */
	const char *page;	/* an error page's sentence, or NULL */
};

struct sup_errtab {
	enum sup_area area;
	const struct sup_errdef *defs;
	size_t n;
};

/* Add an area's table (at start-up; SUP_ERRORS does it). */
void sup_err_register(const struct sup_errtab *t);

#define SUP_ERRORS(name, area_, defs_)					\
	static const struct sup_errtab name = {				\
		(area_), (defs_), sizeof(defs_) / sizeof((defs_)[0]) };	\
	__attribute__((constructor)) static void			\
	name##_register(void)						\
	{								\
		sup_err_register(&name);				\
	}

/* The registered definition of an area's error, or NULL. */
const struct sup_errdef *sup_errdef(sup_err e);

/* The shared error e is a kind of: e itself when it is a shared one. */
sup_err sup_errkind(sup_err e);

/* A static English sentence for an error; never NULL. */
const char *sup_strerror(sup_err e);

/* A short snake_case code for the JSON error envelope; never NULL. */
const char *sup_errcode(sup_err e);

#define SUP_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define SUP_UNUSED __attribute__((unused))
#define SUP_NELEM(a) (sizeof(a) / sizeof((a)[0]))

#endif
