/*
 * test-ollama.c: ollama:NAME[:TAG] resolved in a models directory built
 * here as Ollama lays it out (manifests by host, namespace, model and tag;
 * blobs by digest), and every way that fails.
 */
#include <sys/stat.h>
#include <unistd.h>

#include "wb_priv.h"
#include "unit.h"

#define HEX_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HEX_B "0123456789abcdef0123456789abcdef0123456789abcdef0123456789ABCDEF"
#define MODEL_TYPE "application/vnd.ollama.image.model"

static char root[] = "/tmp/test-ollama.XXXXXX";
static char models[512];

/* Write text to root/rel, making its directories. */
static void
write_file(const char *rel, const void *text, size_t len)
{
	char path[512], *p;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (p = path + strlen(root) + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	if ((f = fopen(path, "wb")) == NULL || fwrite(text, 1, len, f) != len ||
	    fclose(f) != 0)
		abort();
}

static void
write_text(const char *rel, const char *text)
{
	write_file(rel, text, strlen(text));
}

/* A manifest as Ollama writes one: a config, then the layers. */
static void
manifest(const char *rel, const char *layers)
{
	char text[2048];

	snprintf(text, sizeof(text), "{\"schemaVersion\":2,\"mediaType\":"
	    "\"application/vnd.docker.distribution.manifest.v2+json\","
	    "\"config\":{\"mediaType\":\"application/vnd.docker.container.image"
	    ".v1+json\",\"digest\":\"sha256:" HEX_A "\",\"size\":2},"
	    "\"layers\":[%s]}", layers);
	write_text(rel, text);
}

static const char *
layer(const char *type, const char *digest)
{
	static char buf[4][256];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "{\"mediaType\":\"%s\",\"digest\":"
	    "\"%s\",\"size\":1}", type, digest);
	return buf[i];
}

/* Resolve spec: the status, and the path or the message in out. */
static int
resolve(const char *spec, char *out, size_t size)
{
	struct wb_err err;
	int rc = wb_ollama_resolve(spec, out, size, &err);

	if (rc != WB_OK)
		snprintf(out, size, "%s", err.msg);
	return rc;
}

static bool
resolves_to(const char *spec, const char *blob)
{
	char got[1024], want[1024];

	snprintf(want, sizeof(want), "%s/blobs/%s", models, blob);
	if (resolve(spec, got, sizeof(got)) != WB_OK || strcmp(got, want) != 0) {
		fprintf(stderr, "%s: got %s\n  want %s\n", spec, got, want);
		return false;
	}
	return true;
}

/* Does resolving spec fail with status, its message reading text (in which
 * "%s" stands for the models directory)? */
static bool
fails(const char *spec, int status, const char *text)
{
	char got[1024], want[1024];
	int rc = resolve(spec, got, sizeof(got));

	snprintf(want, sizeof(want), text, models, models);
	if (rc != status || strcmp(got, want) != 0) {
		fprintf(stderr, "%s: got %d %s\n  want %d %s\n", spec, rc, got,
		    status, want);
		return false;
	}
	return true;
}

static void
build_models(void)
{
	static const unsigned char gguf[] = "GGUF\3\0\0\0" "\0\0\0\0\0\0\0\0"
	    "\0\0\0\0\0\0\0\0";

	write_file("models/blobs/sha256-" HEX_A, "{}", 2);
	write_file("models/blobs/sha256-" HEX_B, gguf, sizeof(gguf) - 1);
	/* So that a digest one digit too long names a file that is there. */
	write_text("models/blobs/sha256-" HEX_B "x", "not a model");
	manifest("models/manifests/registry.ollama.ai/library/tiny/latest",
	    layer(MODEL_TYPE, "sha256:" HEX_B));
	manifest("models/manifests/registry.ollama.ai/library/tiny/q4",
	    layer(MODEL_TYPE, "sha256-" HEX_A));
	manifest("models/manifests/registry.ollama.ai/someone/tiny/latest",
	    layer(MODEL_TYPE, "sha256:" HEX_A));
	manifest("models/manifests/example.com:5000/team/m/v1.2",
	    layer(MODEL_TYPE, "sha256:" HEX_B));
	/* Other layers come and go; the last model layer is the model. */
	{
		char layers[1024];
		snprintf(layers, sizeof(layers), "%s,%s,%s,%s",
		    layer("application/vnd.ollama.image.template", "sha256:" HEX_A),
		    layer(MODEL_TYPE, "sha256:" HEX_A),
		    layer(MODEL_TYPE, "sha256:" HEX_B),
		    layer("application/vnd.ollama.image.params", "sha256:" HEX_A));
		manifest("models/manifests/registry.ollama.ai/library/two/latest",
		    layers);
	}
	manifest("models/manifests/registry.ollama.ai/library/nomodel/latest",
	    layer("application/vnd.ollama.image.projector", "sha256:" HEX_B));
	manifest("models/manifests/registry.ollama.ai/library/shortdigest/latest",
	    layer(MODEL_TYPE, "sha256:abc"));
	manifest("models/manifests/registry.ollama.ai/library/md5/latest",
	    layer(MODEL_TYPE, "md5:" HEX_B));
	manifest("models/manifests/registry.ollama.ai/library/longdigest/latest",
	    layer(MODEL_TYPE, "sha256:" HEX_B "x"));
	write_text("models/manifests/registry.ollama.ai/library/nojson/latest",
	    "{\"layers\": [");
	write_text("models/manifests/registry.ollama.ai/library/nolayers/latest",
	    "{\"layers\": {}}");
	write_text("models/manifests/registry.ollama.ai/library/numdigest/latest",
	    "{\"layers\": [{\"mediaType\": \"" MODEL_TYPE "\", \"digest\": 5}]}");
	manifest("models/manifests/registry.ollama.ai/library/gone/latest",
	    layer(MODEL_TYPE, "sha256:" "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	    "bbbbbbbbbbbbbbbbbbbbbbbb"));
	/* A blob that is not a GGUF file. */
	write_file("models/blobs/sha256-cccccccccccccccccccccccccccccccccccccccc"
	    "cccccccccccccccccccccccc", "\x89PNG", 4);
	manifest("models/manifests/registry.ollama.ai/library/png/latest",
	    layer(MODEL_TYPE, "sha256:" "cccccccccccccccccccccccccccccccccccccccc"
	    "cccccccccccccccccccccccc"));
}

static void
names_resolve_as_ollama_stores_them(void)
{
	setenv("OLLAMA_MODELS", models, 1);
	CHECK(resolves_to("ollama:tiny", "sha256-" HEX_B));
	CHECK(resolves_to("ollama:tiny:latest", "sha256-" HEX_B));
	CHECK(resolves_to("ollama:tiny:q4", "sha256-" HEX_A));
	CHECK(resolves_to("ollama:library/tiny:q4", "sha256-" HEX_A));
	CHECK(resolves_to("ollama:registry.ollama.ai/library/tiny", "sha256-"
	    HEX_B));
	CHECK(resolves_to("ollama:someone/tiny", "sha256-" HEX_A));
	CHECK(resolves_to("ollama:example.com:5000/team/m:v1.2", "sha256-"
	    HEX_B));
	CHECK(resolves_to("ollama:https://example.com:5000/team/m:v1.2",
	    "sha256-" HEX_B));
	CHECK(resolves_to("ollama:two", "sha256-" HEX_B));
}

static void
the_models_directory_is_found_as_ollama_finds_it(void)
{
	char quoted[600], home[200];

	snprintf(quoted, sizeof(quoted), " \"%s\"\n", models);
	setenv("OLLAMA_MODELS", quoted, 1);
	CHECK(resolves_to("ollama:tiny", "sha256-" HEX_B));
	/* Unset or blank: ~/.ollama/models. */
	snprintf(home, sizeof(home), "%s/home", root);
	mkdir(home, 0755);
	snprintf(quoted, sizeof(quoted), "%s/.ollama", home);
	mkdir(quoted, 0755);
	snprintf(quoted, sizeof(quoted), "%s/.ollama/models", home);
	CHECK(symlink(models, quoted) == 0);
	setenv("HOME", home, 1);
	setenv("OLLAMA_MODELS", " ", 1);
	snprintf(models, sizeof(models), "%s/.ollama/models", home);
	CHECK(resolves_to("ollama:tiny", "sha256-" HEX_B));
	unsetenv("OLLAMA_MODELS");
	CHECK(resolves_to("ollama:tiny:q4", "sha256-" HEX_A));
	CHECK(fails("ollama:nowhere", 66, "ollama:nowhere: not installed: no"
	    " manifest %s/manifests/registry.ollama.ai/library/nowhere/latest"));
	setenv("HOME", root, 1);
	snprintf(models, sizeof(models), "%s/.ollama/models", root);
	CHECK(fails("ollama:tiny", 66, "ollama:tiny: not installed: no models"
	    " directory %s (~/.ollama/models)"));
	unsetenv("HOME");
	CHECK(fails("ollama:tiny", 66, "ollama:tiny: no models directory:"
	    " neither OLLAMA_MODELS nor HOME is set"));
	snprintf(models, sizeof(models), "%s/models", root);
	setenv("OLLAMA_MODELS", models, 1);
}

static void
a_missing_model_names_the_paths_tried(void)
{
	char missing[200];

	CHECK(fails("ollama:absent", 66, "ollama:absent: not installed: no"
	    " manifest %s/manifests/registry.ollama.ai/library/absent/latest"));
	CHECK(fails("ollama:tiny:7b", 66, "ollama:tiny:7b: not installed: no"
	    " manifest %s/manifests/registry.ollama.ai/library/tiny/7b"));
	CHECK(fails("ollama:who/tiny", 66, "ollama:who/tiny: not installed: no"
	    " manifest %s/manifests/registry.ollama.ai/who/tiny/latest"));
	CHECK(fails("ollama:gone", 66, "ollama:gone: manifest %s/manifests/"
	    "registry.ollama.ai/library/gone/latest names blob %s/blobs/sha256-"
	    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb,"
	    " which is missing"));
	snprintf(missing, sizeof(missing), "%s/nothing", root);
	setenv("OLLAMA_MODELS", missing, 1);
	{
		char got[1024], want[1024];
		snprintf(want, sizeof(want), "ollama:tiny: not installed: no models"
		    " directory %s (OLLAMA_MODELS)", missing);
		CHECK_U(resolve("ollama:tiny", got, sizeof(got)), 66);
		CHECK(strcmp(got, want) == 0);
	}
	setenv("OLLAMA_MODELS", models, 1);
}

static void
bad_manifests_are_bad_input(void)
{
	CHECK(fails("ollama:nomodel", 65, "ollama:nomodel: %s/manifests/"
	    "registry.ollama.ai/library/nomodel/latest: no layer of type "
	    MODEL_TYPE));
	CHECK(fails("ollama:shortdigest", 65, "ollama:shortdigest: %s/manifests/"
	    "registry.ollama.ai/library/shortdigest/latest: the model layer's"
	    " digest is not sha256:<64 hex digits>"));
	CHECK(fails("ollama:md5", 65, "ollama:md5: %s/manifests/"
	    "registry.ollama.ai/library/md5/latest: the model layer's"
	    " digest is not sha256:<64 hex digits>"));
	CHECK(fails("ollama:longdigest", 65, "ollama:longdigest: %s/manifests/"
	    "registry.ollama.ai/library/longdigest/latest: the model layer's"
	    " digest is not sha256:<64 hex digits>"));
	CHECK(fails("ollama:numdigest", 65, "ollama:numdigest: %s/manifests/"
	    "registry.ollama.ai/library/numdigest/latest: the model layer's"
	    " digest is not sha256:<64 hex digits>"));
	CHECK(fails("ollama:nolayers", 65, "ollama:nolayers: %s/manifests/"
	    "registry.ollama.ai/library/nolayers/latest: no \"layers\" array"));
	CHECK(fails("ollama:nojson", 65, "ollama:nojson: %s/manifests/"
	    "registry.ollama.ai/library/nojson/latest:1:12: ']' expected near end"
	    " of file"));
}

static void
bad_names_are_usage_errors(void)
{
	static const struct { const char *spec, *msg; } bad[] = {
		{ "tiny", "tiny: not an ollama:NAME" },
		{ "ollama:", "ollama:: not a valid Ollama model name: bad model ''" },
		{ "ollama:tiny:", "ollama:tiny:: not a valid Ollama model name:"
		    " bad tag ''" },
		{ "ollama:/tiny", "ollama:/tiny: not a valid Ollama model name:"
		    " bad namespace ''" },
		{ "ollama:a/b/c/d", "ollama:a/b/c/d: not a valid Ollama model"
		    " name: bad host 'a/b'" },
		{ "ollama:.hidden", "ollama:.hidden: not a valid Ollama model"
		    " name: bad model '.hidden'" },
		{ "ollama:..", "ollama:..: not a valid Ollama model name: bad"
		    " model '..'" },
		{ "ollama:tiny:..", "ollama:tiny:..: not a valid Ollama model"
		    " name: bad tag '..'" },
		{ "ollama:my.team/tiny", "ollama:my.team/tiny: not a valid Ollama"
		    " model name: bad namespace 'my.team'" },
		{ "ollama:ti ny", "ollama:ti ny: not a valid Ollama model name:"
		    " bad model 'ti ny'" },
		{ "ollama:a:b/c", "ollama:a:b/c: not a valid Ollama model name:"
		    " bad namespace 'a:b'" },
	};
	char long_name[120], want[300];
	size_t i;

	for (i = 0; i < WB_NELEM(bad); i++)
		CHECK(fails(bad[i].spec, 64, bad[i].msg));
	/* 80 bytes is the longest part. */
	memset(long_name, 'a', sizeof(long_name));
	memcpy(long_name, "ollama:", 7);
	long_name[7 + 81] = '\0';
	snprintf(want, sizeof(want), "%s: not a valid Ollama model name: bad"
	    " model '%s'", long_name, long_name + 7);
	CHECK(fails(long_name, 64, want));
	long_name[7 + 80] = '\0';
	snprintf(want, sizeof(want), "%s: not installed: no manifest %%s/"
	    "manifests/registry.ollama.ai/library/%s/latest", long_name,
	    long_name + 7);
	CHECK(fails(long_name, 66, want));
}

static void
the_blob_is_checked_by_the_gguf_reader(void)
{
	char path[1024], want[1100];
	struct wb_err err;
	struct wb_gguf *g;

	CHECK(resolve("ollama:tiny", path, sizeof(path)) == WB_OK);
	g = wb_gguf_open(path, &err);
	CHECK(g != NULL && wb_gguf_version(g) == 3);
	wb_gguf_free(g);
	CHECK(resolve("ollama:png", path, sizeof(path)) == WB_OK);
	CHECK(wb_gguf_open(path, &err) == NULL);
	CHECK_U(err.status, WB_EDATA);
	snprintf(want, sizeof(want), "%s: not a GGUF file", path);
	CHECK(strcmp(err.msg, want) == 0);
	/* A buffer too small for the path fails rather than cut it. */
	CHECK_U(resolve("ollama:tiny", path, 20), WB_ENOINPUT);
	CHECK(strcmp(path, "ollama:tiny: blob p") == 0);
}

int
main(void)
{
	char cmd[256];

	if (mkdtemp(root) == NULL)
		return 70;
	snprintf(models, sizeof(models), "%s/models", root);
	build_models();
	RUN(names_resolve_as_ollama_stores_them);
	RUN(the_models_directory_is_found_as_ollama_finds_it);
	RUN(a_missing_model_names_the_paths_tried);
	RUN(bad_manifests_are_bad_input);
	RUN(bad_names_are_usage_errors);
	RUN(the_blob_is_checked_by_the_gguf_reader);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	if (system(cmd) != 0)
		return 1;
	return UNIT_END();
}
