/* The wire codes of errors. */
#include <stddef.h>

#include "wire/error.h"

/* Returns the wire code of an error. */
const char *
error_code(int err)
{
	switch (err) {
	case ERROR_BAD_CHANNEL:		return ("bad-channel");
	case ERROR_BAD_NAME:		return ("bad-name");
	case ERROR_NAME_TAKEN:		return ("name-taken");
	case ERROR_NO_SUCH_NAME:	return ("no-such-name");
	case ERROR_NOT_MEMBER:		return ("not-member");
	case ERROR_FORBIDDEN:		return ("forbidden");
	case ERROR_TOO_MANY_SUBS:	return ("too-many-subs");
	case ERROR_NOT_SUBSCRIBED:	return ("not-subscribed");
	case ERROR_NO_CHANNEL:		return ("no-channel");
	case ERROR_REFUSED:		return ("refused");
	case ERROR_DROPPED:		return ("dropped");
	case ERROR_SCRIPT_ERROR:	return ("script-error");
	case ERROR_PENDING:		return ("pending");
	case ERROR_UNAVAILABLE:		return ("unavailable");
	case ERROR_UNKNOWN_COMMAND:	return ("unknown-command");
	case ERROR_TOO_MANY_JOINS:	return ("too-many-joins");
	}
	return ("error");
}

/*
 * Returns what is allowed, in words, for an error about a malformed name
 * or channel (the rules of name.c), or NULL for other errors.
 */
const char *
error_allowed(int err)
{
	switch (err) {
	case ERROR_BAD_CHANNEL:
		return ("tokens of A-Z a-z 0-9 _ # : - joined by dots, 1 to "
		    "128 bytes, not starting with -; in patterns also * for "
		    "a token and a final >");
	case ERROR_BAD_NAME:
		return ("1 to 32 of A-Z a-z 0-9 _ -, not starting with -; "
		    "not server");
	}
	return (NULL);
}
