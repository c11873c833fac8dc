/* The wire codes of errors. */
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
