/* num.c: numbers and time: numbers from the command line, checked, never
 * atoi, and the one clock. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "wb_priv.h"

double
wb_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
wb_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out,
    struct wb_err *err)
{
	unsigned long long v;
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return wb_err_set(err, WB_EUSAGE, "'%s': not a number", s);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end != '\0')
		return wb_err_set(err, WB_EUSAGE, "'%s': not a number", s);
	if (errno == ERANGE || v < min || v > max)
		return wb_err_set(err, WB_EUSAGE,
		    "'%s': out of range %llu to %llu", s,
		    (unsigned long long)min, (unsigned long long)max);
	*out = v;
	return WB_OK;
}

int
wb_parse_pos_double(const char *s, double *out, struct wb_err *err)
{
	double v;
	char *end;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || errno == ERANGE || !isfinite(v) ||
	    v <= 0)
		return wb_err_set(err, WB_EUSAGE,
		    "'%s': not a positive number", s);
	*out = v;
	return WB_OK;
}

int
wb_parse_size(const char *s, uint64_t *out, struct wb_err *err)
{
	unsigned long long v;
	unsigned shift = 0;
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return wb_err_set(err, WB_EUSAGE, "'%s': not a size", s);
	errno = 0;
	v = strtoull(s, &end, 10);
	switch (*end) {
	case 'K': shift = 10; end++; break;
	case 'M': shift = 20; end++; break;
	case 'G': shift = 30; end++; break;
	}
	if (*end != '\0' || errno == ERANGE || v == 0 || v > (UINT64_MAX >> 34))
		return wb_err_set(err, WB_EUSAGE, "'%s': not a size", s);
	*out = (uint64_t)v << shift;
	return WB_OK;
}
