/* err.c: errors as values, and how exit statuses combine. */
#include <stdarg.h>
#include <string.h>

#include "wb.h"

/* Replace what is not UTF-8 (a cut sequence, a bad byte), and control
 * characters but the tab (a name read from a file may hold a newline:
 * a message is one line), by '?'. */
static void
sanitize(char *m)
{
	size_t len = strlen(m), i;

	while ((i = wb_utf8_valid(m, len)) < len)
		m[i] = '?';
	for (i = 0; i < len; i++)
		if (((unsigned char)m[i] < 0x20 && m[i] != '\t') || m[i] == 0x7f)
			m[i] = '?';
}

int
wb_err_set(struct wb_err *err, int status, const char *fmt, ...)
{
	va_list ap;

	err->status = status;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	sanitize(err->msg);
	return status;
}

/* How bad a status is: an I/O or internal failure outranks bad data. */
static int
severity(int s)
{
	switch (s) {
	case WB_OK:        return 0;
	case WB_ECHECK:    return 1;
	case WB_EDATA:     return 2;
	case WB_EUNAVAIL:  return 3;
	case WB_EIO:       return 5;
	case WB_EINTERNAL: return 6;
	default:           return 4;
	}
}

int
wb_status_worst(int a, int b)
{
	return severity(b) > severity(a) ? b : a;
}

int
wb_err_prefix(struct wb_err *err, const char *what)
{
	char m[sizeof(err->msg)];
	size_t n = strlen(what);

	/* Cut the old message if it must; the prefix is what names it. */
	memcpy(m, err->msg, sizeof(m));
	if (n > 60)
		n = 60;
	memcpy(err->msg, what, n);
	memcpy(err->msg + n, ": ", 2);
	memcpy(err->msg + n + 2, m, sizeof(err->msg) - n - 3);
	err->msg[sizeof(err->msg) - 1] = '\0';
	sanitize(err->msg);
	return err->status;
}
