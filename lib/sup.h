/*
 * sup.h - what every part of libsupport shares: the error enum and a few
 * attributes.  lib/ never exits and never prints to stdout; it returns one of
 * these and the programs in cgi-bin/ turn it into an HTTP status.
 */
#ifndef SUP_H
#define SUP_H

#include <stddef.h>
#include <stdint.h>

typedef enum sup_err {
	SUP_OK = 0,
	SUP_ENOMEM,		/* out of memory */
	SUP_EINVAL,		/* bad input: a field, a query parameter */
	SUP_EJSON,		/* the body is not a JSON object */
	SUP_EUNKNOWN,		/* a field or parameter nobody asked for */
	SUP_EUNAUTH,		/* no or wrong credentials */
	SUP_EFORBIDDEN,		/* authenticated, but not allowed */
	SUP_ELIMIT,		/* a per-user quota is used up */
	SUP_ENOTFOUND,		/* no such thing, or not the caller's */
	SUP_EMETHOD,		/* the path exists, the method does not */
	SUP_ECONFLICT,		/* the state does not allow it */
	SUP_ECLOSED,		/* writing to a closed ticket */
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
	SUP_ETHROTTLE,		/* too many failed logins: wait (429) */
	SUP_ECREDS,		/* a login with a wrong name or password */
	SUP_EREGCLOSED,		/* self-registration is switched off */
	SUP_ETIMEOUT,		/* the body did not come within body_timeout_s */
	SUP_ERR_MAX
} sup_err;

/* A static English sentence for an error; never NULL. */
const char *sup_strerror(sup_err e);

/* A short snake_case code for the JSON error envelope; never NULL. */
const char *sup_errcode(sup_err e);

#define SUP_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define SUP_UNUSED __attribute__((unused))
#define SUP_NELEM(a) (sizeof(a) / sizeof((a)[0]))

#endif
