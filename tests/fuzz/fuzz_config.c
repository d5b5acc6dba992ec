/* fuzz_config.c - the config parser on arbitrary JSON text: every input is
 * refused with an error or parsed, never a crash, a leak or a half-applied
 * config (a refused input leaves an earlier config as it was). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tlsd_config cfg;
	struct tlsd_error err = { "" };
	json_error_t jerr;
	json_t *root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
	json_t *before;
	json_t *after;

	if (root == NULL)
		return 0;
	config_init(&cfg);
	before = config_to_json(&cfg);
	if (config_parse_json(&cfg, root, "/nonexistent-fuzz-dir", &err) < 0) {
		/* Refused: the config is still the defaults, and the error names
		 * what is wrong. */
		after = config_to_json(&cfg);
		if (!json_equal(before, after) || err.msg[0] == '\0')
			abort();
		json_decref(after);
	} else {
		after = config_to_json(&cfg);
		if (after == NULL)
			abort();
		json_decref(after);
	}
	json_decref(before);
	json_decref(root);
	config_free(&cfg);
	return 0;
}
