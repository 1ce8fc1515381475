/* wb-subscribe: each message of the relay's channels once, as JSON lines. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wb.h"

static const char usage_text[] =
    "usage: wb-subscribe [--state FILE] [--count N] [--idle SECONDS]\n"
    "                    [--timeout SECONDS] [--ping SECONDS] [--cacert FILE]\n"
    "                    [--insecure] [--max-record SIZE] URL ...\n";

enum {
	OPT_STATE = 256, OPT_COUNT, OPT_IDLE, OPT_TIMEOUT, OPT_PING, OPT_CACERT,
	OPT_INSECURE,
};

static const struct wb_opt options[] = {
	{ "state", OPT_STATE, "FILE", "keep each channel's position here and "
	    "resume from it" },
	{ "count", OPT_COUNT, "N", "exit after N messages" },
	{ "idle", OPT_IDLE, "SECONDS", "exit after SECONDS without a message" },
	{ "timeout", OPT_TIMEOUT, "SECONDS", "exit 69 when a channel is down "
	    "this long (default: never)" },
	{ "ping", OPT_PING, "SECONDS", "seconds between pings (default 20; 0: "
	    "none)" },
	{ "cacert", OPT_CACERT, "FILE", "CA certificates for wss://" },
	{ "insecure", OPT_INSECURE, NULL, "do not verify the relay's "
	    "certificate" },
	{ NULL, 0, NULL, NULL },
};

static struct wb_sub_opts o = { .prog = "wb-subscribe", .ping = 20 };

/* A number of seconds; 0 allowed where zero means none. */
static int
seconds(const char *arg, bool zero, double *out, struct wb_err *err)
{
	if (zero && strcmp(arg, "0") == 0) {
		*out = 0;
		return WB_OK;
	}
	return wb_parse_pos_double(arg, out, err);
}

/* wb-subscribe's own options. */
static int
option(void *ctx, int id, const char *arg, struct wb_err *err)
{
	(void)ctx;
	switch (id) {
	case OPT_STATE: o.state = arg; break;
	case OPT_CACERT: o.ws.cacert = arg; break;
	case OPT_INSECURE: o.ws.insecure = true; break;
	case OPT_COUNT:
		if (wb_parse_u64(arg, 1, UINT64_MAX, &o.count, err))
			return wb_err_prefix(err, "--count");
		break;
	case OPT_IDLE:
		if (seconds(arg, false, &o.idle, err))
			return wb_err_prefix(err, "--idle");
		break;
	case OPT_TIMEOUT:
		if (seconds(arg, true, &o.timeout, err))
			return wb_err_prefix(err, "--timeout");
		break;
	case OPT_PING:
		if (seconds(arg, true, &o.ping, err))
			return wb_err_prefix(err, "--ping");
		break;
	}
	return WB_OK;
}

int
main(int argc, char *argv[])
{
	struct wb_cli cli = { .prog = "wb-subscribe", .usage = usage_text,
	    .sets = WB_OPTS_NOFILES, .own = options, .own_option = option };
	struct wb_err err = { 0 };
	struct wb_sub *s;
	int st;

	o.out = STDOUT_FILENO;
	o.err = stderr;
	if ((st = wb_cli_parse(&cli, argc, argv, &err)) != WB_OK || cli.done)
		return wb_cli_exit(&cli, st, &err);
	o.ws.max_msg = cli.io.max_record > 0 ? (size_t)cli.io.max_record :
	    (size_t)64 << 20;
	if (o.ws.insecure)
		fputs("wb-subscribe: warning: --insecure: the relay's "
		    "certificate is not verified\n", stderr);
	if ((s = wb_sub_new(&o, cli.files, cli.nfiles, &err)) == NULL)
		return wb_cli_exit(&cli, err.status, &err);
	st = wb_sub_run(s);
	err = *wb_sub_error(s);
	if (st == WB_ECHECK && err.status == 0)
		wb_err_set(&err, WB_ECHECK, "%llu gap%s: some messages were "
		    "missing (see above)", (unsigned long long)wb_sub_gaps(s),
		    wb_sub_gaps(s) == 1 ? "" : "s");
	wb_sub_free(s);
	return wb_cli_exit(&cli, st, &err);
}
