/* err.c - error messages and category names. */
#include "common/err.h"

#include <stdarg.h>
#include <stdio.h>

int tlsd_error_set(struct tlsd_error *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return code;
}

const char *tlsd_err_name(int code)
{
	switch (code) {
	case TLSD_OK: return "ok";
	case TLSD_ERR_IO: return "io";
	case TLSD_ERR_AGAIN: return "again";
	case TLSD_ERR_CLOSED: return "closed";
	case TLSD_ERR_PROTO: return "proto";
	case TLSD_ERR_CONFIG: return "config";
	default: return "internal";
	}
}
