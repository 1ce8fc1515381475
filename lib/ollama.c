/*
 * ollama.c: the GGUF file behind an Ollama model name, found the way
 * Ollama finds it: the name's parts pick a manifest under
 * MODELS/manifests/HOST/NAMESPACE/MODEL/TAG, and the manifest's model
 * layer names a blob MODELS/blobs/sha256-HEX.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "wb_priv.h"

#define PREFIX "ollama:"
#define DEFAULT_HOST "registry.ollama.ai"
#define DEFAULT_NAMESPACE "library"
#define DEFAULT_TAG "latest"
#define MODEL_MEDIA_TYPE "application/vnd.ollama.image.model"
#define MANIFEST_MAX (1 << 20)

/* A name's parts, as Ollama's model.Name has them. */
enum part { HOST, NAMESPACE, MODEL, TAG, NPARTS };

static const char *const part_names[] = { "host", "namespace", "model", "tag" };

struct name {
	char buf[512];
	const char *part[NPARTS];
};

static bool
alnum_(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_';
}

/* Ollama's rules for a part: a letter, digit or '_' first, then those or
 * '-', '.' (not in a namespace), ':' (in a host only); 1 to 80 bytes,
 * 350 for a host. So no part can climb out of its directory. */
static bool
valid_part(enum part k, const char *s)
{
	size_t len = strlen(s), i;

	if (len == 0 || len > (k == HOST ? 350u : 80u) || !alnum_(s[0]))
		return false;
	for (i = 1; i < len; i++) {
		if (alnum_(s[i]) || s[i] == '-' ||
		    (s[i] == '.' && k != NAMESPACE) || (s[i] == ':' && k == HOST))
			continue;
		return false;
	}
	return true;
}

/* Cut s at its last sep: s keeps what is before, the rest is returned. */
static char *
cut_last(char *s, int sep)
{
	char *p = strrchr(s, sep);

	if (p == NULL)
		return NULL;
	*p = '\0';
	return p + 1;
}

/* Split [[HOST/]NAMESPACE/]MODEL[:TAG] as ParseName does, fill in the
 * defaults, and check every part. */
static int
parse_name(const char *spec, struct name *n, struct wb_err *err)
{
	const char *s = spec + strlen(PREFIX);
	char *b = n->buf, *colon, *slash, *p;
	size_t len = strlen(s);
	int k;

	if (len >= sizeof(n->buf))
		return wb_err_set(err, WB_EUSAGE, "%s: model name too long", spec);
	memcpy(b, s, len + 1);
	n->part[HOST] = DEFAULT_HOST;
	n->part[NAMESPACE] = DEFAULT_NAMESPACE;
	n->part[TAG] = DEFAULT_TAG;
	/* A ':' after the last '/' starts the tag; one before is a port. */
	colon = strrchr(b, ':');
	slash = strrchr(b, '/');
	if (colon != NULL && (slash == NULL || colon > slash))
		n->part[TAG] = cut_last(b, ':');
	if ((p = cut_last(b, '/')) == NULL) {
		n->part[MODEL] = b;
	} else {
		n->part[MODEL] = p;
		if ((p = cut_last(b, '/')) == NULL) {
			n->part[NAMESPACE] = b;
		} else {
			n->part[NAMESPACE] = p;
			p = strstr(b, "://");
			n->part[HOST] = p != NULL ? p + 3 : b;
		}
	}
	for (k = 0; k < NPARTS; k++)
		if (!valid_part((enum part)k, n->part[k]))
			return wb_err_set(err, WB_EUSAGE, "%s: not a valid Ollama model"
			    " name: bad %s '%s'", spec, part_names[k], n->part[k]);
	return WB_OK;
}

/* Where the models are: $OLLAMA_MODELS (quotes and blanks trimmed, as
 * Ollama does), else ~/.ollama/models. */
static int
models_dir(const char *spec, char *dir, size_t size, const char **from,
    struct wb_err *err)
{
	const char *env = getenv("OLLAMA_MODELS"), *home;
	size_t len;
	int n;

	if (env != NULL) {
		while (*env != '\0' && strchr(" \t\n\v\f\r", *env) != NULL)
			env++;
		len = strlen(env);
		while (len > 0 && strchr(" \t\n\v\f\r", env[len - 1]) != NULL)
			len--;
		while (len > 0 && (*env == '"' || *env == '\''))
			env++, len--;
		while (len > 0 && (env[len - 1] == '"' || env[len - 1] == '\''))
			len--;
		if (len > 0) {
			*from = "OLLAMA_MODELS";
			n = snprintf(dir, size, "%.*s", (int)len, env);
			goto out;
		}
	}
	home = getenv("HOME");
	if (home == NULL || *home == '\0')
		return wb_err_set(err, WB_ENOINPUT, "%s: no models directory:"
		    " neither OLLAMA_MODELS nor HOME is set", spec);
	*from = "~/.ollama/models";
	n = snprintf(dir, size, "%s/.ollama/models", home);
out:
	if (n < 0 || (size_t)n >= size)
		return wb_err_set(err, WB_ENOINPUT, "%s: models directory path too"
		    " long", spec);
	return WB_OK;
}

/* Read the manifest at path as JSON, refusing what cannot be one. */
static json_t *
load_manifest(const char *spec, const char *path, const char *dir,
    const char *from, struct wb_err *err)
{
	json_error_t je;
	json_t *j;
	FILE *f = fopen(path, "r");
	char *buf;
	size_t len;
	struct stat st;

	if (f == NULL) {
		if (errno == ENOENT || errno == ENOTDIR) {
			if (stat(dir, &st) != 0)
				wb_err_set(err, WB_ENOINPUT, "%s: not installed: no"
				    " models directory %s (%s)", spec, dir, from);
			else
				wb_err_set(err, WB_ENOINPUT, "%s: not installed: no"
				    " manifest %s", spec, path);
		} else {
			wb_err_set(err, WB_ENOINPUT, "%s: %s: %s", spec, path,
			    strerror(errno));
		}
		return NULL;
	}
	buf = malloc(MANIFEST_MAX + 1);
	len = buf != NULL ? fread(buf, 1, MANIFEST_MAX + 1, f) : 0;
	if (buf == NULL || ferror(f)) {
		wb_err_set(err, buf == NULL ? WB_EINTERNAL : WB_EIO, "%s: %s: %s",
		    spec, path, buf == NULL ? "out of memory" : strerror(errno));
		j = NULL;
	} else if (len > MANIFEST_MAX) {
		wb_err_set(err, WB_EDATA, "%s: %s: a manifest over %d bytes", spec,
		    path, MANIFEST_MAX);
		j = NULL;
	} else if ((j = json_loadb(buf, len, 0, &je)) == NULL) {
		wb_err_set(err, WB_EDATA, "%s: %s:%d:%d: %s", spec, path, je.line,
		    je.column, je.text);
	}
	free(buf);
	fclose(f);
	return j;
}

/* Is d "sha256:HEX" or "sha256-HEX", with 64 hex digits (Ollama's test)? */
static bool
valid_digest(const char *d)
{
	size_t i;

	if (strncmp(d, "sha256", 6) != 0 || (d[6] != ':' && d[6] != '-'))
		return false;
	for (i = 7; i < 7 + 64; i++)
		if (!((d[i] >= '0' && d[i] <= '9') || (d[i] >= 'a' && d[i] <= 'f') ||
		    (d[i] >= 'A' && d[i] <= 'F')))
			return false;
	return d[i] == '\0';
}

/* The digest of the manifest's model layer: the last, as for Ollama. */
static int
model_digest(const char *spec, const char *path, const json_t *m,
    const char **digest, struct wb_err *err)
{
	const json_t *layers = json_object_get(m, "layers"), *l, *d = NULL;
	size_t i;

	if (!json_is_array(layers))
		return wb_err_set(err, WB_EDATA, "%s: %s: no \"layers\" array",
		    spec, path);
	json_array_foreach(layers, i, l) {
		const char *mt = json_string_value(json_object_get(l, "mediaType"));
		if (mt != NULL && strcmp(mt, MODEL_MEDIA_TYPE) == 0)
			d = json_object_get(l, "digest");
	}
	if (d == NULL)
		return wb_err_set(err, WB_EDATA, "%s: %s: no layer of type %s", spec,
		    path, MODEL_MEDIA_TYPE);
	if (!json_is_string(d) || !valid_digest(json_string_value(d)))
		return wb_err_set(err, WB_EDATA, "%s: %s: the model layer's digest"
		    " is not sha256:<64 hex digits>", spec, path);
	*digest = json_string_value(d);
	return WB_OK;
}

int
wb_ollama_resolve(const char *spec, char *path, size_t size,
    struct wb_err *err)
{
	struct name n = { 0 };
	char dir[4096], manifest[8192];
	const char *from = NULL, *digest = NULL;
	json_t *m;
	struct stat st;
	int len, rc;

	if (strncmp(spec, PREFIX, strlen(PREFIX)) != 0)
		return wb_err_set(err, WB_EUSAGE, "%s: not an ollama:NAME", spec);
	if (parse_name(spec, &n, err) != WB_OK ||
	    models_dir(spec, dir, sizeof(dir), &from, err) != WB_OK)
		return err->status;
	len = snprintf(manifest, sizeof(manifest), "%s/manifests/%s/%s/%s/%s",
	    dir, n.part[HOST], n.part[NAMESPACE], n.part[MODEL], n.part[TAG]);
	if (len < 0 || (size_t)len >= sizeof(manifest))
		return wb_err_set(err, WB_ENOINPUT, "%s: manifest path too long",
		    spec);
	if ((m = load_manifest(spec, manifest, dir, from, err)) == NULL)
		return err->status;
	if ((rc = model_digest(spec, manifest, m, &digest, err)) == WB_OK) {
		/* Ollama names the blob by the digest with '-' for ':'. */
		len = snprintf(path, size, "%s/blobs/sha256-%s", dir, digest + 7);
		if (len < 0 || (size_t)len >= size)
			rc = wb_err_set(err, WB_ENOINPUT, "%s: blob path too long",
			    spec);
		else if (stat(path, &st) != 0)
			rc = wb_err_set(err, WB_ENOINPUT, "%s: manifest %s names"
			    " blob %s, which is missing", spec, manifest, path);
	}
	json_decref(m);
	return rc;
}
