/* record.c: JSON records in, one line per record out, bad ones reported. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wb_priv.h"

#define CHUNK 65536

/* A buffered reader that cuts the input into top-level JSON values. */
struct reader {
	const struct wb_io *io;
	char *buf;
	size_t cap, head, tail;  /* unread bytes are buf[head..tail) */
	uint64_t line;           /* the line of buf[head] */
	bool eof;
	bool hinted;             /* said that the input looks like plain text */
	int errnum;              /* a read error */
	int stopped;             /* the status that io->wait stopped with */
	char *stack;             /* open brackets of the current value */
	size_t depth, stack_cap;
};

/* One top-level value, as found by frame(). */
struct frame {
	const char *p;
	size_t len;
	uint64_t line;      /* where it starts */
	bool too_big;       /* it was skipped, not kept */
	size_t resync;      /* where a value in column 1 went on this one as
	                     * valid JSON could: the next record if this one
	                     * is broken; NO_RESYNC for none */
};

#define NO_RESYNC SIZE_MAX

/* Newlines in p[0..n). */
static uint64_t
newlines(const char *p, size_t n)
{
	uint64_t c = 0;
	const char *e = p + n;

	while ((p = memchr(p, '\n', (size_t)(e - p))) != NULL) {
		c++;
		p++;
	}
	return c;
}

/* Read more input after buf[tail]; keep buf[head..tail), moved to the front. */
static int
fill(struct reader *rd)
{
	ssize_t n;
	char *nb;

	if (rd->head > 0) {
		memmove(rd->buf, rd->buf + rd->head, rd->tail - rd->head);
		rd->tail -= rd->head;
		rd->head = 0;
	}
	if (rd->cap - rd->tail < CHUNK) {
		nb = realloc(rd->buf, rd->cap * 2);
		if (nb == NULL) {
			rd->errnum = ENOMEM;
			return -1;
		}
		rd->buf = nb;
		rd->cap *= 2;
	}
	if (rd->io->wait != NULL &&
	    (rd->stopped = rd->io->wait(rd->io->wait_ctx, fileno(rd->io->in)))) {
		rd->errnum = ECANCELED;
		return -1;
	}
	do
		n = read(fileno(rd->io->in), rd->buf + rd->tail, rd->cap - rd->tail);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		rd->errnum = errno;
		return -1;
	}
	if (n == 0)
		rd->eof = true;
	rd->tail += (size_t)n;
	return (int)n;
}

static int
push(struct reader *rd, char c)
{
	if (rd->depth == rd->stack_cap) {
		size_t nc = rd->stack_cap ? rd->stack_cap * 2 : 64;
		char *ns = realloc(rd->stack, nc);
		if (ns == NULL)
			return -1;
		rd->stack = ns;
		rd->stack_cap = nc;
	}
	rd->stack[rd->depth++] = c;
	return 0;
}

/* Is any of the 8 bytes at p a '"', a '\\' or a newline? */
static inline bool
str_special(const char *p)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = ones << 7;
	uint64_t w, a, b, c;

	memcpy(&w, p, sizeof(w));
	a = w ^ ones * '"';
	b = w ^ ones * '\\';
	c = w ^ ones * '\n';
	return (((a - ones) & ~a) | ((b - ones) & ~b) | ((c - ones) & ~c)) &
	    highs;
}

/*
 * Find the next top-level value: 1 found, 0 end of input, -1 read error.
 * A value is framed by its brackets and strings only; jansson parses it
 * afterwards. A raw newline in a string, a closing bracket that does not
 * match, an RS, or a line that starts with '{' or '[' in column 1 where
 * valid JSON could not have it ends the value early (as a bad record), so
 * one broken line of JSON Lines costs that line only.
 */
static int
frame(struct reader *rd, struct frame *f)
{
	size_t k;     /* offset of the next byte, from head */
	size_t kept;  /* bytes of the value dropped while skipping a huge one */
	int mode = 0; /* '{': brackets; '"': string; 'l': to end of line */
	bool in_str = false, esc = false, col1 = false, done = false;
	char prev = 0; /* the last byte outside strings that was not space */
	size_t resync = NO_RESYNC;
	size_t end = 0;
	char c;

	/* Skip white space between values, and byte order marks: files
	 * that start with one may be concatenated. */
	for (;;) {
		while (rd->head < rd->tail) {
			c = rd->buf[rd->head];
			if (c == '\xEF') {
				if (rd->tail - rd->head < 3 && !rd->eof)
					break;  /* read on to see all of it */
				if (rd->tail - rd->head < 3 ||
				    memcmp(rd->buf + rd->head, "\xEF\xBB\xBF", 3) != 0)
					goto start;
				rd->head += 3;
				continue;
			}
			/* RS starts each text of a JSON text sequence
			 * (RFC 7464, jq --seq). */
			if (c != ' ' && c != '\t' && c != '\r' && c != '\n' &&
			    c != '\x1E')
				goto start;
			if (c == '\n')
				rd->line++;
			rd->head++;
		}
		if (rd->eof && rd->head == rd->tail)
			return 0;
		if (fill(rd) < 0)
			return -1;
	}
start:
	f->line = rd->line;
	f->too_big = false;
	rd->depth = 0;
	kept = 0;
	k = 0;
	for (;;) {
		if (rd->head + k == rd->tail) {
			if (rd->eof) {
				if (mode == '{' && resync != NO_RESYNC)
					goto give_back;  /* unterminated */
				end = k;
				break;
			}
			if (k > rd->io->max_record) {
				/* Too big to keep: drop what was read, go on framing. */
				f->too_big = true;
				kept += k;
				rd->head += k;
				k = 0;
				resync = NO_RESYNC;
			}
			if (fill(rd) < 0)
				return -1;
			continue;
		}
		c = rd->buf[rd->head + k];
		if (mode == 0) {
			mode = (c == '{' || c == '[') ? '{' : c == '"' ? '"' : 'l';
			prev = c;
			if (mode == '"')
				in_str = true;
			if (mode == '{' && push(rd, c) < 0) {
				rd->errnum = ENOMEM;
				return -1;
			}
			k++;
			continue;
		}
		if (c == '\n' && (mode == 'l' || in_str)) {
			end = k;  /* the newline is not part of it */
			break;
		}
		if (c == '\x1E' && !esc) {
			end = k;  /* the next text of a sequence: this one ends */
			break;
		}
		if (in_str && !esc && c != '"' && c != '\\' && c != '\n') {
			/* Most of a record is text: skip to the next byte that
			 * matters, eight at a time. */
			const char *q = rd->buf + rd->head + k + 1;
			const char *e = rd->buf + rd->tail;
			while (e - q >= 8 && !str_special(q))
				q += 8;
			while (q < e && *q != '"' && *q != '\\' && *q != '\n')
				q++;
			k = (size_t)(q - (rd->buf + rd->head));
			continue;
		}
		if (in_str) {
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"') {
				in_str = false;
				prev = '"';
				if (mode == '"')
					done = true;
			}
		} else if (mode == '{') {
			/* A value in column 1 goes on this one only where valid
			 * JSON can have it (after '[' or ',' in an array, ':'
			 * in an object: Python's indent=0); anywhere else it is
			 * the next record, and this one was broken. */
			if (col1 && (c == '{' || c == '[') &&
			    (rd->stack[rd->depth - 1] == '[' ?
			    prev == '[' || prev == ',' : prev == ':')) {
				if (resync == NO_RESYNC)
					resync = k;
			} else if (col1 && (c == '{' || c == '[')) {
				/* Leave the newline out, unless a skip dropped it. */
				if (k > 0) {
					end = k - 1;
					rd->line--;  /* the skip of white space counts it */
				}
				break;
			}
			col1 = false;
			if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
				prev = c;
			switch (c) {
			case '"':
				in_str = true;
				break;
			case '{': case '[':
				if (push(rd, c) < 0) {
					rd->errnum = ENOMEM;
					return -1;
				}
				break;
			case '}': case ']':
				if (rd->depth == 0 ||
				    rd->stack[rd->depth - 1] != (c == '}' ? '{' : '[')) {
					if (resync != NO_RESYNC)
						goto give_back;
					mode = 'l';  /* a mismatch: the line is lost */
				}
				else if (--rd->depth == 0)
					done = true;
				break;
			case '\n':
				rd->line++;
				col1 = true;
				break;
			}
		}
		k++;
		if (done) {
			end = k;
			break;
		}
	}
	if (0) {
give_back:
		/* Broken: it ends where a value in column 1 could have
		 * started the next record, which is read again from there,
		 * and so are the lines after it. */
		end = resync;
		rd->line -= newlines(rd->buf + rd->head + end, k - end);
		resync = NO_RESYNC;
	}
	f->p = rd->buf + rd->head;
	f->len = end;
	f->resync = resync;
	if (kept + end > rd->io->max_record)
		f->too_big = true;
	rd->head += end;
	return 1;
}

int
wb_emit(FILE *out, const json_t *rec, struct wb_err *err)
{
	char stack[65536];
	struct wb_buf b = { .p = stack, .cap = sizeof(stack) };
	int st = WB_OK;

	/* Print 0.1 as 0.1, not 0.10000000000000001, and lose no digit. */
	if (wb_json_dump(rec, 0, &b) != 0 ||
	    wb_buf_add(&b, "\n", 1) != 0) {
		free(b.heap);
		return wb_err_set(err, WB_EINTERNAL,
		    "cannot write a record (out of memory or not UTF-8)");
	}
	if (fwrite(b.p, 1, b.len, out) != b.len || fflush(out) != 0)
		st = wb_err_set(err, WB_EIO, "stdout: %s", strerror(errno));
	free(b.heap);
	return st;
}

/* Write s escaped as a workflow command's data, or with prop its property
 * value too (GitHub's rules: % CR LF, and : , in properties). */
static void
escaped(FILE *f, const char *s, bool prop)
{
	for (; *s != '\0'; s++) {
		if (*s == '%')
			fputs("%25", f);
		else if (*s == '\r')
			fputs("%0D", f);
		else if (*s == '\n')
			fputs("%0A", f);
		else if (prop && *s == ':')
			fputs("%3A", f);
		else if (prop && *s == ',')
			fputs("%2C", f);
		else
			putc(*s, f);
	}
}

void
wb_annotate(const struct wb_io *io, uint64_t line, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!io->annotate)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fputs("::error ", io->err);
	if (io->in_file) {
		fputs("file=", io->err);
		escaped(io->err, io->in_name, true);
		if (line > 0)
			fputc(',', io->err);
	}
	if (line > 0)
		fprintf(io->err, "line=%llu", (unsigned long long)line);
	fputs("::", io->err);
	escaped(io->err, msg, false);
	fputc('\n', io->err);
}

/* Report a bad record: a line on stderr and an error record in its place. */
static int
report(const struct wb_io *io, uint64_t recno, uint64_t line, const char *msg)
{
	struct wb_err err;
	json_t *e;
	int st;

	fprintf(io->err, "%s: %s:%llu: %s\n", io->prog, io->in_name,
	    (unsigned long long)line, msg);
	wb_annotate(io, line, "%s", msg);
	e = io->in_file ?
	    json_pack("{s:{s:s,s:I,s:I,s:s}}", "error", "file", io->in_name,
	    "record", (json_int_t)recno, "line", (json_int_t)line, "message",
	    msg) :
	    json_pack("{s:{s:I,s:I,s:s}}", "error", "record", (json_int_t)recno,
	    "line", (json_int_t)line, "message", msg);
	if (e == NULL)
		return WB_EINTERNAL;
	st = wb_emit(io->out, e, &err);
	json_decref(e);
	if (st != WB_OK)
		fprintf(io->err, "%s: %s\n", io->prog, err.msg);
	return st;
}

/* The line of a parse error in f: where jansson says, but never past the
 * frame's last line that holds more than white space (an input cut short
 * at its end fails "near end of file", a line after its last). */
static uint64_t
error_line(const struct frame *f, const json_error_t *je)
{
	size_t n = f->len;
	uint64_t last;

	if (je->line <= 0)
		return f->line;
	while (n > 0 && (f->p[n - 1] == ' ' || f->p[n - 1] == '\t' ||
	    f->p[n - 1] == '\r' || f->p[n - 1] == '\n'))
		n--;
	last = 1 + newlines(f->p, n);
	return f->line + ((uint64_t)je->line < last ? (uint64_t)je->line : last) - 1;
}

/* Parse one framed value into an object; set err and return 65 if not. */
static int
parse(struct reader *rd, const struct frame *f, json_t **rec, bool *broken,
    struct wb_err *err)
{
	*broken = false;
	json_error_t je;
	json_t *j;

	if (f->too_big) {
		err->line = f->line;
		return wb_err_set(err, WB_EDATA,
		    "record exceeds the maximum record size of %llu bytes "
		    "(--max-record%s)", (unsigned long long)rd->io->max_record,
		    rd->io->text_modes ? "; -r reads a text of any size" : "");
	}
	j = wb_json_loadb(f->p, f->len, &je);
	if (j == NULL) {
		*broken = true;
		err->line = error_line(f, &je);
		/* No JSON value starts so: plain text, said once an input. */
		if (rd->io->text_modes && !rd->hinted &&
		    strchr("{[\"-0123456789tfn", f->p[0]) == NULL) {
			rd->hinted = true;
			return wb_err_set(err, WB_EDATA, "invalid JSON: %s (plain "
			    "text? -r reads each input as one text, -R each "
			    "line)", je.text);
		}
		return wb_err_set(err, WB_EDATA, "invalid JSON: %s", je.text);
	}
	if (!json_is_object(j)) {
		err->line = f->line;
		wb_err_set(err, WB_EDATA, "record is %s, not an object",
		    wb_json_kind(j));
		json_decref(j);
		return WB_EDATA;
	}
	*rec = j;
	return WB_OK;
}

/* Hand a parsed record (or the status st that parsing gave, with err) to
 * fn, write it, and report it if bad; the status of the record. */
static int
handle(const struct wb_io *io, wb_record_fn fn, void *ctx, json_t *rec,
    int st, uint64_t recno, uint64_t line, struct wb_err *err)
{
	if (st == WB_OK) {
		err->line = line;
		st = fn(ctx, rec, err);
		if (st == WB_OK || st == WB_ECHECK) {
			int w = (io->emit ? io->emit : wb_emit)(io->out, rec, err);
			if (w != WB_OK) {
				fprintf(io->err, "%s: %s\n", io->prog, err->msg);
				st = w;
			}
		}
	}
	json_decref(rec);
	if (st == WB_EDATA)
		st = wb_status_worst(WB_EDATA,
		    report(io, recno, err->line ? err->line : line, err->msg));
	if (st != WB_OK && st != WB_ECHECK && st != WB_EDATA && st != WB_EIO)
		fprintf(io->err, "%s: %s:%llu: %s\n", io->prog, io->in_name,
		    (unsigned long long)line, err->msg);
	return st;
}

/* A bad record: counted, and its bytes as read to io->reject. */
static int
rejected(const struct wb_io *io, const struct frame *f)
{
	if (io->nbad != NULL)
		++*io->nbad;
	if (io->reject == NULL || f->too_big)
		return WB_EDATA;
	if (fwrite(f->p, 1, f->len, io->reject) != f->len ||
	    ((f->len == 0 || f->p[f->len - 1] != '\n') &&
	    putc('\n', io->reject) == EOF) || fflush(io->reject) != 0) {
		fprintf(io->err, "%s: --reject: %s\n", io->prog, strerror(errno));
		return WB_EIO;
	}
	return WB_EDATA;
}

/* A run goes on past bad records and checks; anything else stops it. */
static bool
goes_on(int st)
{
	return st == WB_OK || st == WB_ECHECK || st == WB_EDATA;
}

int
wb_records_run(const struct wb_io *io, wb_record_fn fn, void *ctx)
{
	struct reader rd = { .io = io, .line = 1 };
	struct wb_io dio = *io;
	int status = WB_OK, st, r;
	uint64_t recno = 0;
	struct frame f;
	struct wb_err err;
	bool broken;
	json_t *rec;

	if (dio.max_record == 0)
		dio.max_record = WB_MAX_RECORD;
	rd.io = &dio;
	rd.cap = (size_t)CHUNK * 2;
	rd.buf = malloc(rd.cap);
	if (rd.buf == NULL) {
		fprintf(io->err, "%s: out of memory\n", io->prog);
		return WB_EINTERNAL;
	}
	while ((r = frame(&rd, &f)) == 1) {
		memset(&err, 0, sizeof(err));
		rec = NULL;
		st = parse(&rd, &f, &rec, &broken, &err);
		if (broken && f.resync != NO_RESYNC && f.resync > 0 &&
		    !f.too_big) {
			/* Broken where the next record could start: it ends
			 * there, and reading goes on from there. */
			rd.head = (size_t)(f.p - rd.buf) + f.resync;
			rd.line = f.line + newlines(f.p, f.resync);
			f.len = f.resync;
			memset(&err, 0, sizeof(err));
			st = parse(&rd, &f, &rec, &broken, &err);
		}
		st = handle(io, fn, ctx, rec, st, ++recno, f.line, &err);
		if (st == WB_EDATA)
			st = wb_status_worst(st, rejected(io, &f));
		status = wb_status_worst(status, st);
		if (!goes_on(st))
			break;
	}
	if (r < 0 && rd.stopped != 0) {
		status = wb_status_worst(status, rd.stopped);  /* its caller says why */
	} else if (r < 0) {
		fprintf(io->err, "%s: %s: %s\n", io->prog, io->in_name,
		    strerror(rd.errnum));
		status = wb_status_worst(status,
		    rd.errnum == ENOMEM ? WB_EINTERNAL : WB_EIO);
	}
	free(rd.buf);
	free(rd.stack);
	return status;
}

int
wb_lines_run(const struct wb_io *io, const char *field, wb_record_fn fn,
    void *ctx)
{
	char *buf = NULL;
	size_t cap = 0;
	uint64_t line = 0;
	int status = WB_OK, st;
	struct wb_err err;
	ssize_t n;
	json_t *rec;

	while ((n = getline(&buf, &cap, io->in)) > 0) {
		line++;
		if (buf[n - 1] == '\n')
			buf[--n] = '\0';
		memset(&err, 0, sizeof(err));
		st = WB_OK;
		rec = NULL;
		if (wb_utf8_valid(buf, (size_t)n) != (size_t)n)
			st = wb_err_set(&err, WB_EDATA, "invalid UTF-8 at byte "
			    "offset %zu of the line", wb_utf8_valid(buf, (size_t)n));
		else if ((rec = json_object()) == NULL || (io->in_file &&
		    json_object_set_new(rec, "file", json_string(io->in_name))) ||
		    json_object_set_new(rec, "line", json_integer((json_int_t)line)) ||
		    json_object_set_new(rec, field, json_stringn(buf, (size_t)n)))
			st = wb_err_set(&err, WB_EINTERNAL, "out of memory");
		st = handle(io, fn, ctx, rec, st, line, line, &err);
		status = wb_status_worst(status, st);
		if (!goes_on(st))
			break;
	}
	if (ferror(io->in)) {
		fprintf(io->err, "%s: %s: %s\n", io->prog, io->in_name,
		    strerror(errno));
		status = wb_status_worst(status, WB_EIO);
	}
	free(buf);
	return status;
}

/* Read the next piece of io->in into buf: its length, 0 at the end, or
 * -1 with err set. */
static ssize_t
read_piece(const struct wb_io *io, char *buf, size_t cap, struct wb_err *err)
{
	ssize_t r;

	do
		r = read(fileno(io->in), buf, cap);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		wb_err_set(err, WB_EIO, "%s: %s", io->in_name, strerror(errno));
	return r;
}

int
wb_read_count(const struct wb_io *io, const struct wb_counter *c,
    uint64_t *count, struct wb_err *err)
{
	char buf[CHUNK];
	struct wb_count_stream *cs = wb_count_stream_new(c);
	ssize_t r;
	int st = WB_OK;

	if (cs == NULL)
		return wb_err_set(err, WB_EINTERNAL, "out of memory");
	while ((r = read_piece(io, buf, sizeof(buf), err)) != 0) {
		if (r < 0) {
			st = WB_EIO;
			goto out;
		}
		if ((st = wb_count_stream_feed(cs, buf, (size_t)r, err)) != WB_OK)
			goto out;
	}
	st = wb_count_stream_end(cs, count, err);
out:
	if (st == WB_EDATA)
		wb_err_prefix(err, io->in_name);
	wb_count_stream_free(cs);
	return st;
}

int
wb_read_truncate(const struct wb_io *io, const struct wb_counter *c,
    uint64_t budget, enum wb_keep keep, const char *ellipsis,
    struct wb_trunc *out, struct wb_err *err)
{
	char buf[CHUNK];
	struct wb_trunc_stream *ts = wb_trunc_stream_new(c, budget, keep, ellipsis);
	ssize_t r;
	int st;

	memset(out, 0, sizeof(*out));
	if (ts == NULL)
		return wb_err_set(err, WB_EINTERNAL, "out of memory");
	while ((r = read_piece(io, buf, sizeof(buf), err)) != 0) {
		if (r < 0) {
			st = WB_EIO;
			goto out;
		}
		if ((st = wb_trunc_stream_feed(ts, buf, (size_t)r, err)) != WB_OK)
			goto out;
	}
	st = wb_trunc_stream_end(ts, out, err);
out:
	if (st == WB_EDATA)
		wb_err_prefix(err, io->in_name);
	wb_trunc_stream_free(ts);
	return st;
}

int
wb_close_out(const struct wb_io *io, int status)
{
	/* The reason of the first failure: a later call may change errno;
	 * an earlier failed write left only the error flag. */
	int e = fflush(io->out) != 0 ? errno : ferror(io->out) ? EIO : 0;

	if (fclose(io->out) != 0 && e == 0)
		e = errno;
	if (e == 0)
		return status;
	if (status != WB_EIO)
		fprintf(io->err, "%s: stdout: %s\n", io->prog, strerror(e));
	return wb_status_worst(status, WB_EIO);
}

/* Split the next step of a path at p into name (unescaped), advancing p
 * past it and its dot; false when the name is too long. */
static bool
path_step(const char **p, char *name, size_t size)
{
	size_t n = 0;
	const char *q = *p;

	for (; *q != '\0' && *q != '.'; q++) {
		if (*q == '\\' && q[1] != '\0')
			q++;
		if (n + 1 >= size)
			return false;
		name[n++] = *q;
	}
	name[n] = '\0';
	*p = *q == '.' ? q + 1 : q;
	return true;
}

/* The value of an array at the index written in name, or NULL. */
static json_t *
array_at(const json_t *a, const char *name)
{
	char *end;
	unsigned long long i;

	if (name[0] < '0' || name[0] > '9' || (name[0] == '0' && name[1]))
		return NULL;
	i = strtoull(name, &end, 10);
	return *end == '\0' && i < json_array_size(a) ?
	    json_array_get(a, (size_t)i) : NULL;
}

/* The container that holds the last step of path, and that step's name;
 * NULL if a step before it is missing. */
static json_t *
path_parent(json_t *rec, const char *path, char *last, size_t size)
{
	json_t *cur = rec;
	const char *p = path;

	if (!path_step(&p, last, size))
		return NULL;
	while (*p != '\0' || p[-1] == '.') {
		if (json_is_object(cur))
			cur = json_object_get(cur, last);
		else if (json_is_array(cur))
			cur = array_at(cur, last);
		else
			return NULL;
		if (cur == NULL || !path_step(&p, last, size))
			return NULL;
		if (*p == '\0')
			break;
	}
	return cur;
}

json_t *
wb_path_get(const json_t *rec, const char *path)
{
	char last[256];
	json_t *parent, *v;

	/* A member whose whole name is path comes first. */
	if ((v = json_object_get(rec, path)) != NULL ||
	    strpbrk(path, ".\\") == NULL)
		return v;
	parent = path_parent((json_t *)rec, path, last, sizeof(last));
	if (json_is_object(parent))
		return json_object_get(parent, last);
	if (json_is_array(parent))
		return array_at(parent, last);
	return NULL;
}

int
wb_path_set(json_t *rec, const char *path, json_t *v)
{
	char last[256];
	json_t *parent, *old;

	if (json_object_get(rec, path) != NULL || strpbrk(path, ".\\") == NULL)
		return json_object_set_new(rec, path, v);
	parent = path_parent(rec, path, last, sizeof(last));
	if (json_is_object(parent))
		return json_object_set_new(parent, last, v);
	if (json_is_array(parent) && (old = array_at(parent, last)) != NULL) {
		for (size_t i = 0; i < json_array_size(parent); i++)
			if (json_array_get(parent, i) == old)
				return json_array_set_new(parent, i, v);
	}
	json_decref(v);
	return -1;
}

int
wb_get_string(const json_t *rec, const char *key, const char **s, size_t *len,
    struct wb_err *err)
{
	json_t *v = wb_path_get(rec, key);

	if (v == NULL)
		return wb_err_set(err, WB_EDATA, "missing field \"%s\"", key);
	if (!json_is_string(v))
		return wb_err_set(err, WB_EDATA,
		    "field \"%s\" is %s, not a string", key, wb_json_kind(v));
	*s = json_string_value(v);
	*len = json_string_length(v);
	return WB_OK;
}

int
wb_get_uint(const json_t *rec, const char *key, bool *present, uint64_t *v,
    struct wb_err *err)
{
	json_t *j = json_object_get(rec, key);
	json_int_t i;

	*present = false;
	if (j == NULL)
		return WB_OK;
	if (!json_is_integer(j))
		return wb_err_set(err, WB_EDATA,
		    "field \"%s\" is %s, not a whole number", key, wb_json_kind(j));
	i = json_integer_value(j);
	if (i < 0 || (uint64_t)i > WB_MAX_TOKENS)
		return wb_err_set(err, WB_EDATA,
		    "field \"%s\" is out of range 0 to %llu", key,
		    (unsigned long long)WB_MAX_TOKENS);
	*present = true;
	*v = (uint64_t)i;
	return WB_OK;
}

int
wb_set_int(json_t *rec, const char *key, uint64_t v, struct wb_err *err)
{
	if (json_object_set_new(rec, key, json_integer((json_int_t)v)) != 0)
		return wb_err_set(err, WB_EINTERNAL, "out of memory");
	return WB_OK;
}
