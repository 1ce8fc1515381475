/* wb-broadcast: publish each game-state change to the players' relay. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "wb.h"

static const char usage_text[] =
    "usage: wb-broadcast [-aMn] [-u URL] [--allow-unknown] [--token-file FILE]\n"
    "                    [--cacert FILE] [--insecure] [--no-ack] [--window N]\n"
    "                    [--rate N] [--timeout SECONDS] [--ping SECONDS]\n"
    "                    [--dead-letter FILE] [--run ID] [--max-record SIZE]\n";

enum {
	OPT_UNKNOWN = 256, OPT_TOKFILE, OPT_CACERT, OPT_INSECURE, OPT_NOACK,
	OPT_WINDOW, OPT_RATE, OPT_TIMEOUT, OPT_PING, OPT_DEAD, OPT_RUN,
	OPT_MAXREC,
};

static const struct option longopts[] = {
	{ "url", required_argument, NULL, 'u' },
	{ "mutations", no_argument, NULL, 'M' },
	{ "dry-run", no_argument, NULL, 'n' },
	{ "acks", no_argument, NULL, 'a' },
	{ "allow-unknown", no_argument, NULL, OPT_UNKNOWN },
	{ "token-file", required_argument, NULL, OPT_TOKFILE },
	{ "cacert", required_argument, NULL, OPT_CACERT },
	{ "insecure", no_argument, NULL, OPT_INSECURE },
	{ "no-ack", no_argument, NULL, OPT_NOACK },
	{ "window", required_argument, NULL, OPT_WINDOW },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "ping", required_argument, NULL, OPT_PING },
	{ "dead-letter", required_argument, NULL, OPT_DEAD },
	{ "run", required_argument, NULL, OPT_RUN },
	{ "max-record", required_argument, NULL, OPT_MAXREC },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static char token[4096];

static int
usage(FILE *f, int status)
{
	fputs(usage_text, f);
	return status;
}

/* Records are written later, as acks, or not at all. */
static int
emit_none(FILE *out, const json_t *rec, struct wb_err *err)
{
	(void)out;
	(void)rec;
	(void)err;
	return WB_OK;
}

/* True for the characters of an RFC 6750 bearer token. */
static bool
token_ok(const char *t)
{
	size_t n = strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-._~+/");

	n += strspn(t + n, "=");
	return n > 0 && t[n] == '\0';
}

/* The token: from the first line of path, or from $WB_RELAY_TOKEN. */
static int
load_token(const char *path, const char **out, struct wb_err *err)
{
	const char *env = getenv("WB_RELAY_TOKEN");
	FILE *f;
	size_t n;

	*out = NULL;
	if (path == NULL) {
		if (env == NULL || *env == '\0')
			return WB_OK;
		snprintf(token, sizeof(token), "%s", env);
	} else {
		if ((f = fopen(path, "r")) == NULL)
			return wb_err_set(err, WB_ENOINPUT, "--token-file: %s: %s",
			    path, strerror(errno));
		if (fgets(token, sizeof(token), f) == NULL)
			token[0] = '\0';
		fclose(f);
		n = strcspn(token, "\r\n");
		token[n] = '\0';
	}
	if (!token_ok(token))
		return wb_err_set(err, WB_ECONFIG, "%s: the token is empty or has "
		    "characters outside A-Z a-z 0-9 - . _ ~ + / =",
		    path ? path : "WB_RELAY_TOKEN");
	*out = token;
	return WB_OK;
}

int
main(int argc, char *argv[])
{
	struct wb_io io = { "wb-broadcast", stdin, stdout, stderr, "stdin", 0,
	    emit_none, NULL, NULL };
	struct wb_bcast_opts o = {
		.prog = "wb-broadcast", .window = 256, .rate = 20000,
		.timeout = 30, .ping = 20, .out = stdout, .dead = stderr,
		.err = stderr, .ws = { .accept = "text/json" },
	};
	const char *tokfile = NULL, *deadfile = NULL;
	struct wb_err err = { 0 };
	struct wb_bcast *bc;
	FILE *dead = NULL;
	int c, st;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":u:MnahV", longopts, NULL)) != -1) {
		switch (c) {
		case 'u': o.url = optarg; break;
		case 'M': o.mutations = true; break;
		case 'n': o.dry_run = true; break;
		case 'a': o.acks = true; break;
		case OPT_UNKNOWN: o.allow_unknown = true; break;
		case OPT_TOKFILE: tokfile = optarg; break;
		case OPT_CACERT: o.ws.cacert = optarg; break;
		case OPT_INSECURE: o.ws.insecure = true; break;
		case OPT_NOACK: o.no_ack = true; break;
		case OPT_DEAD: deadfile = optarg; break;
		case OPT_RUN: o.run = optarg; break;
		case OPT_WINDOW:
			if (wb_parse_u64(optarg, 1, 1000000, &o.window, &err)) {
				wb_err_prefix(&err, "--window");
				goto bad;
			}
			break;
		case OPT_RATE:
			if (wb_parse_u64(optarg, 0, 1000000, &o.rate, &err)) {
				wb_err_prefix(&err, "--rate");
				goto bad;
			}
			break;
		case OPT_TIMEOUT:
			if (wb_parse_pos_double(optarg, &o.timeout, &err)) {
				wb_err_prefix(&err, "--timeout");
				goto bad;
			}
			break;
		case OPT_PING:
			if (strcmp(optarg, "0") == 0)
				o.ping = 0;
			else if (wb_parse_pos_double(optarg, &o.ping, &err)) {
				wb_err_prefix(&err, "--ping");
				goto bad;
			}
			break;
		case OPT_MAXREC:
			if (wb_parse_size(optarg, &io.max_record, &err)) {
				wb_err_prefix(&err, "--max-record");
				goto bad;
			}
			break;
		case 'h':
			return wb_close_out(&io, usage(stdout, WB_OK));
		case 'V':
			puts("wb-broadcast (wb) " WB_VERSION);
			return wb_close_out(&io, WB_OK);
		default:
			wb_getopt_err(&err, c, optopt, argv[optind - 1]);
			goto bad;
		}
	}
	if (optind < argc) {
		wb_err_set(&err, WB_EUSAGE, "%s: unexpected argument",
		    argv[optind]);
		goto bad;
	}
	if (o.run != NULL && (*o.run == '\0' || strlen(o.run) > 32)) {
		wb_err_set(&err, WB_EUSAGE, "--run: 1 to 32 characters");
		goto bad;
	}
	if ((bc = wb_bcast_new(&o, &err)) == NULL)
		goto bad;
	wb_bcast_free(bc);
	if (!o.dry_run) {
		if (load_token(tokfile, &o.ws.token, &err) != WB_OK)
			goto fail;
		if (deadfile != NULL && (dead = fopen(deadfile, "a")) == NULL) {
			wb_err_set(&err, WB_EIO, "--dead-letter: %s: %s", deadfile,
			    strerror(errno));
			goto fail;
		}
		if (dead != NULL)
			o.dead = dead;
		if (o.ws.insecure)
			fputs("wb-broadcast: warning: --insecure: the relay's "
			    "certificate is not verified\n", stderr);
		/* A relay that hangs up must not kill us before the dead letter. */
		signal(SIGPIPE, SIG_IGN);
	} else {
		io.emit = NULL;
	}
	if ((bc = wb_bcast_new(&o, &err)) == NULL)
		goto fail;
	if (!o.dry_run) {
		io.wait = wb_bcast_wait;
		io.wait_ctx = bc;
	}
	st = wb_records_run(&io, wb_bcast_record, bc);
	st = wb_bcast_finish(bc, st);
	wb_bcast_free(bc);
	if (dead != NULL && fclose(dead) != 0) {
		fprintf(stderr, "wb-broadcast: --dead-letter: %s: %s\n", deadfile,
		    strerror(errno));
		st = wb_status_worst(st, WB_EIO);
	}
	memset(token, 0, sizeof(token));
	return wb_close_out(&io, st);
bad:
	fprintf(stderr, "wb-broadcast: %s\n", err.msg);
	return usage(stderr, err.status == WB_EUSAGE ? WB_EUSAGE : err.status);
fail:
	fprintf(stderr, "wb-broadcast: %s\n", err.msg);
	return err.status;
}
