/* fuzz-config.c: the YAML configuration loader on any file. */
#include "fuzz.h"

#include "wb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wb_settings s;
	struct wb_config *cfg;
	struct wb_err err = { 0 };
	char path[64];
	int fd;
	FILE *f = fuzz_file(data, size, &fd);

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	cfg = wb_config_load(path, &err);
	if (cfg == NULL) {
		/* A rejected file says where and why, as status 78 or 66. */
		FUZZ_ASSERT(err.status == WB_ECONFIG || err.status == WB_ENOINPUT);
		FUZZ_ASSERT(err.msg[0] != '\0');
	} else {
		FUZZ_ASSERT(wb_settings_resolve(cfg, NULL, NULL, NULL, &s,
		    &err) == WB_OK);
		json_decref(wb_settings_json(&s));
		wb_config_free(cfg);
	}
	fclose(f);
	return 0;
}
