/*
 * Why an operation failed, as the stable code that follows "-ERR " on
 * the wire. Functions return 0 or more for success and one of these
 * (negative) for failure.
 */
#ifndef ERROR_H
#define ERROR_H

enum error {
	ERROR_OK = 0,
	ERROR_BAD_CHANNEL = -1,
	ERROR_BAD_NAME = -2,
	ERROR_NAME_TAKEN = -3,
	ERROR_NO_SUCH_NAME = -4,
	ERROR_NOT_MEMBER = -5,
	ERROR_FORBIDDEN = -6,
	ERROR_TOO_MANY_SUBS = -7,
	ERROR_NOT_SUBSCRIBED = -8,
	ERROR_NO_CHANNEL = -9,
	ERROR_REFUSED = -10,
	ERROR_DROPPED = -11,
	ERROR_SCRIPT_ERROR = -12,	/* a hook failed; the client was told */
	ERROR_PENDING = -13,		/* a hook suspended; done() comes later */
	ERROR_UNAVAILABLE = -14,	/* the cluster is down */
	ERROR_UNKNOWN_COMMAND = -15,
	ERROR_TOO_MANY_JOINS = -16,
};

const char	*error_code(int);
const char	*error_allowed(int);

#endif
