/*
 * wssub: a WebSocket subscriber for the tests, on libwb's client: each
 * message the relay sends is one line on stdout, flushed.
 * usage: wssub [-n COUNT] [-t IDLE_SECONDS] [-c CAFILE] URL
 * Exits 0 after COUNT messages (or at the relay's close without -n), 1
 * when idle too long first, 69 when it cannot connect.
 */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wb.h"

static unsigned long long got, want;

static void
on_message(void *ud, const uint8_t *p, size_t len)
{
	(void)ud;
	if (want > 0 && got >= want)
		return;
	fwrite(p, 1, len, stdout);
	putchar('\n');
	fflush(stdout);
	got++;
}

int
main(int argc, char *argv[])
{
	struct wb_ws_opts o = { .timeout = 5 };
	struct wb_ws_handler h = { on_message, NULL };
	struct wb_err err = { 0 };
	struct wb_ws *ws;
	double idle = 10;
	int c, st = 0;

	while ((c = getopt(argc, argv, "n:t:c:")) != -1) {
		switch (c) {
		case 'n': want = strtoull(optarg, NULL, 10); break;
		case 't': idle = strtod(optarg, NULL); break;
		case 'c': o.cacert = optarg; break;
		default: return WB_EUSAGE;
		}
	}
	if (optind != argc - 1) {
		fputs("usage: wssub [-n COUNT] [-t IDLE_SECONDS] [-c CAFILE] URL\n",
		    stderr);
		return WB_EUSAGE;
	}
	if ((ws = wb_ws_connect(argv[optind], &o, &h, &err)) == NULL) {
		fprintf(stderr, "wssub: %s\n", err.msg);
		return err.status;
	}
	fputs("wssub: connected\n", stderr);  /* the tests wait for it */
	while (want == 0 || got < want) {
		struct pollfd p = { wb_ws_fd(ws), wb_ws_events(ws), 0 };

		if (!wb_ws_buffered(ws) && poll(&p, 1, (int)(idle * 1000)) == 0) {
			fprintf(stderr, "wssub: idle for %g s after %llu messages\n",
			    idle, got);
			st = 1;
			break;
		}
		if (wb_ws_io(ws, &err) != WB_OK) {
			if (want > 0 && got < want) {
				fprintf(stderr, "wssub: %s after %llu messages\n", err.msg,
				    got);
				st = 1;
			}
			break;
		}
	}
	wb_ws_free(ws);
	return st;
}
