/* wb-broadcast: publish each game-state change to the players' relay. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wb.h"

static const char usage_text[] =
    "usage: wb-broadcast [-aMn] [-u URL] [--allow-unknown] [--token-file FILE]\n"
    "                    [--cacert FILE] [--insecure] [--no-ack] [--window N]\n"
    "                    [--rate N] [--timeout SECONDS] [--ping SECONDS]\n"
    "                    [--dead-letter FILE] [--reject FILE] [--grace SECONDS]\n"
    "                    [--spool DIR] [--spool-max SIZE] [--run ID]\n"
    "                    [--progress] [--max-record SIZE]\n"
    "                    [--annotate github] [--files-from FILE [-0]] [FILE ...]\n";

enum {
	OPT_UNKNOWN = 256, OPT_TOKFILE, OPT_CACERT, OPT_INSECURE, OPT_NOACK,
	OPT_WINDOW, OPT_RATE, OPT_TIMEOUT, OPT_PING, OPT_DEAD, OPT_RUN,
	OPT_REJECT, OPT_GRACE, OPT_PROGRESS, OPT_SPOOL, OPT_SPOOLMAX,
};

static const struct wb_opt options[] = {
	{ "url", 'u', "URL", "the relay's publish URL, with {field}s" },
	{ "mutations", 'M', NULL, "records are REST mutations, not messages" },
	{ "dry-run", 'n', NULL, "check and stamp the messages; send nothing" },
	{ "acks", 'a', NULL, "write a line for each delivered message" },
	{ "allow-unknown", OPT_UNKNOWN, NULL, "let unknown message types "
	    "through" },
	{ "token-file", OPT_TOKFILE, "FILE", "the relay token (default "
	    "$WB_RELAY_TOKEN)" },
	{ "cacert", OPT_CACERT, "FILE", "CA certificates for wss://" },
	{ "insecure", OPT_INSECURE, NULL, "do not verify the relay's "
	    "certificate" },
	{ "no-ack", OPT_NOACK, NULL, "a written frame counts as delivered" },
	{ "window", OPT_WINDOW, "N", "unacked messages per channel (default "
	    "256)" },
	{ "rate", OPT_RATE, "N", "messages per second per channel (default "
	    "20000; 0: no cap)" },
	{ "timeout", OPT_TIMEOUT, "SECONDS", "the final wait and the longest "
	    "outage (default 30)" },
	{ "ping", OPT_PING, "SECONDS", "seconds between pings (default 20; 0: "
	    "none)" },
	{ "dead-letter", OPT_DEAD, "FILE", "append what cannot be delivered "
	    "here (default stderr)" },
	{ "reject", OPT_REJECT, "FILE", "append bad records here, as they "
	    "came" },
	{ "grace", OPT_GRACE, "SECONDS", "after a stop signal, the wait for "
	    "acks (default 2)" },
	{ "spool", OPT_SPOOL, "DIR", "journal each message there before "
	    "sending it" },
	{ "spool-max", OPT_SPOOLMAX, "SIZE", "the journal's size before "
	    "reading waits (default 1G)" },
	{ "run", OPT_RUN, "ID", "the run id stamped on each message" },
	{ "progress", OPT_PROGRESS, NULL, "a progress line on stderr each "
	    "second" },
	{ NULL, 0, NULL, NULL },
};

static struct wb_bcast_opts o = {
	.prog = "wb-broadcast", .rate = 20000, .timeout = 30, .ping = 20,
	.grace = 2, .stop_fd = -1, .ws = { .accept = "text/json" },
};
static const char *tokfile, *deadfile, *rejectfile;
/* --dead-letter and --reject made by this run (none was there). */
static bool dead_made, reject_made;
static char token[4096];
static uint64_t nbad;

/* Stop signals: counted, and a byte down the pipe so that poll wakes. */
static volatile sig_atomic_t stops;
static int stop_pipe[2] = { -1, -1 };

static void
on_stop(int sig)
{
	int e = errno;
	ssize_t r;

	(void)sig;
	if (stops < 2)
		stops++;
	r = write(stop_pipe[1], "s", 1);
	(void)r;
	errno = e;
}

/* SIGTERM, SIGINT and SIGHUP stop the reading; see wb_bcast_finish. */
static int
catch_stops(struct wb_err *err)
{
	struct sigaction sa;

	if (pipe(stop_pipe) != 0)
		return wb_err_set(err, WB_EINTERNAL, "pipe: %s", strerror(errno));
	for (int i = 0; i < 2; i++) {
		fcntl(stop_pipe[i], F_SETFL, O_NONBLOCK);
		fcntl(stop_pipe[i], F_SETFD, FD_CLOEXEC);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	o.stops = &stops;
	o.stop_fd = stop_pipe[0];
	return WB_OK;
}

/* Is the regular file path the file open as fd? */
static bool
same_file(const char *path, int fd)
{
	struct stat a, b;

	return stat(path, &a) == 0 && S_ISREG(a.st_mode) &&
	    fstat(fd, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Is the regular file out also an input? Appending to what is being read
 * would read it again without end. */
static int
check_not_input(const struct wb_cli *cli, const char *what, const char *out,
    struct wb_err *err)
{
	struct stat a, b;
	bool uses_stdin = cli->nfiles == 0 && cli->files_from == NULL;

	if (stat(out, &a) != 0 || !S_ISREG(a.st_mode))
		return WB_OK;
	for (size_t i = 0; i < cli->nfiles; i++) {
		if (strcmp(cli->files[i], "-") == 0) {
			uses_stdin = true;
			continue;
		}
		if (stat(cli->files[i], &b) == 0 && a.st_dev == b.st_dev &&
		    a.st_ino == b.st_ino)
			return wb_err_set(err, WB_EUSAGE, "%s: %s is also the "
			    "input %s: move it aside and read the moved copy",
			    what, out, cli->files[i]);
	}
	if (cli->files_from != NULL && strcmp(cli->files_from, "-") == 0)
		uses_stdin = false;
	if (uses_stdin && same_file(out, 0))
		return wb_err_set(err, WB_EUSAGE, "%s: %s is also the standard "
		    "input: move it aside and read the moved copy", what, out);
	return WB_OK;
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

/* wb-broadcast's own options. */
static int
option(void *ctx, int id, const char *arg, struct wb_err *err)
{
	(void)ctx;
	switch (id) {
	case 'u': o.url = arg; break;
	case 'M': o.mutations = true; break;
	case 'n': o.dry_run = true; break;
	case 'a': o.acks = true; break;
	case OPT_UNKNOWN: o.allow_unknown = true; break;
	case OPT_TOKFILE: tokfile = arg; break;
	case OPT_CACERT: o.ws.cacert = arg; break;
	case OPT_INSECURE: o.ws.insecure = true; break;
	case OPT_NOACK: o.no_ack = true; break;
	case OPT_DEAD: deadfile = arg; break;
	case OPT_RUN: o.run = arg; break;
	case OPT_REJECT: rejectfile = arg; break;
	case OPT_PROGRESS: o.progress = true; break;
	case OPT_SPOOL: o.spool = arg; break;
	case OPT_SPOOLMAX:
		if (wb_parse_size(arg, &o.spool_max, err) != WB_OK)
			return wb_err_prefix(err, "--spool-max");
		if (o.spool_max == 0)
			return wb_err_set(err, WB_EUSAGE, "--spool-max: 0: "
			    "no room for one message");
		break;
	case OPT_GRACE:
		if (strcmp(arg, "0") == 0)
			o.grace = 0;
		else if (wb_parse_pos_double(arg, &o.grace, err))
			return wb_err_prefix(err, "--grace");
		break;
	case OPT_WINDOW:
		if (wb_parse_u64(arg, 1, 1000000, &o.window, err))
			return wb_err_prefix(err, "--window");
		break;
	case OPT_RATE:
		if (wb_parse_u64(arg, 0, 1000000, &o.rate, err))
			return wb_err_prefix(err, "--rate");
		break;
	case OPT_TIMEOUT:
		if (wb_parse_pos_double(arg, &o.timeout, err))
			return wb_err_prefix(err, "--timeout");
		break;
	case OPT_PING:
		if (strcmp(arg, "0") == 0)
			o.ping = 0;
		else if (wb_parse_pos_double(arg, &o.ping, err))
			return wb_err_prefix(err, "--ping");
		break;
	}
	return WB_OK;
}

/* Open path to append to; *made says it was not there before. */
static FILE *
open_append(const char *path, bool *made)
{
	struct stat sb;

	*made = stat(path, &sb) != 0 && errno == ENOENT;
	return fopen(path, "a");
}

/*
 * Close f, opened by open_append; a file this run made and left empty
 * goes again (nothing undelivered, nothing rejected: no file to find).
 */
static int
close_append(FILE *f, const char *opt, const char *path, bool made,
    struct wb_err *err)
{
	struct stat sb;
	bool empty = made && fstat(fileno(f), &sb) == 0 && sb.st_size == 0;

	if (fclose(f) != 0)
		return wb_err_set(err, WB_EIO, "%s: %s: %s", opt, path,
		    strerror(errno));
	if (empty)
		unlink(path);
	return WB_OK;
}

/* Open what a real run needs: the token, the dead letter. */
static int
prepare(const struct wb_cli *cli, FILE **dead, struct wb_err *err)
{
	if (load_token(tokfile, &o.ws.token, err) != WB_OK)
		return err->status;
	if (o.ws.token == NULL)
		return wb_err_set(err, WB_ECONFIG, "no relay token: set "
		    "WB_RELAY_TOKEN or --token-file");
	if (deadfile != NULL &&
	    check_not_input(cli, "--dead-letter", deadfile, err) != WB_OK)
		return err->status;
	if (deadfile == NULL) {
		struct stat a, b;

		/* The default dead letter, stderr, appended to the input. */
		if (fstat(2, &a) == 0 && S_ISREG(a.st_mode) &&
		    cli->nfiles == 0 && fstat(0, &b) == 0 &&
		    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
			return wb_err_set(err, WB_EUSAGE, "the dead letter "
			    "(standard error) is also the standard input");
	}
	if (deadfile != NULL && (*dead = open_append(deadfile,
	    &dead_made)) == NULL)
		return wb_err_set(err, WB_EIO, "--dead-letter: %s: %s", deadfile,
		    strerror(errno));
	if (*dead != NULL)
		o.dead = *dead;
	if (o.ws.insecure)
		fputs("wb-broadcast: warning: --insecure: the relay's "
		    "certificate is not verified\n", stderr);
	/* A relay that hangs up must not kill us before the dead letter. */
	signal(SIGPIPE, SIG_IGN);
	o.progress = o.progress || isatty(2);
	o.progress_tty = isatty(2);
	return catch_stops(err);
}

/* Open --reject, which must not be an input either. */
static int
open_reject(struct wb_cli *cli, FILE **rej, struct wb_err *err)
{
	if (rejectfile == NULL)
		return WB_OK;
	if (check_not_input(cli, "--reject", rejectfile, err) != WB_OK)
		return err->status;
	if ((*rej = open_append(rejectfile, &reject_made)) == NULL)
		return wb_err_set(err, WB_EIO, "--reject: %s: %s", rejectfile,
		    strerror(errno));
	cli->io.reject = *rej;
	return WB_OK;
}

int
main(int argc, char *argv[])
{
	struct wb_cli cli = { .prog = "wb-broadcast", .usage = usage_text,
	    .own = options, .own_option = option };
	struct wb_err err = { 0 };
	struct wb_bcast *bc;
	FILE *dead = NULL, *rej = NULL;
	int st;

	o.out = stdout;
	o.dead = o.err = stderr;
	o.nbad = &nbad;
	if ((st = wb_cli_parse(&cli, argc, argv, &err)) != WB_OK || cli.done ||
	    (st = wb_bcast_check(&o, &err)) != WB_OK ||
	    (st = open_reject(&cli, &rej, &err)) != WB_OK ||
	    (!o.dry_run && (st = prepare(&cli, &dead, &err)) != WB_OK) ||
	    (bc = wb_bcast_new(&o, &err)) == NULL)
		return wb_cli_exit(&cli, st ? st : err.status, &err);
	cli.io.nbad = &nbad;
	if (!o.dry_run) {
		cli.io.emit = emit_none;
		cli.io.wait = wb_bcast_wait;
		cli.io.wait_ctx = bc;
	}
	st = wb_cli_records(&cli, wb_bcast_record, bc);
	st = wb_bcast_finish(bc, st);
	wb_bcast_free(bc);
	if (dead != NULL)
		st = wb_status_worst(st, close_append(dead, "--dead-letter",
		    deadfile, dead_made, &err));
	if (rej != NULL)
		st = wb_status_worst(st, close_append(rej, "--reject",
		    rejectfile, reject_made, &err));
	memset(token, 0, sizeof(token));
	return wb_cli_exit(&cli, st, &err);
}
