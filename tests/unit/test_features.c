// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_features.c - what the kernel probe's results mean: which feature
 * stops network enforcement (fail closed) or only file enforcement
 * (degraded), the one-line why and how, the active LSM list, and the
 * `pinfold features` table and JSON document. The probes themselves need a
 * kernel and root; `pinfold features` runs them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "userspace/kfeatures.h"

/* Every feature present, as on a kernel that gives pinfold everything. */
static void all_present(struct features *f)
{
	int i;

	memset(f, 0, sizeof(*f));
	for (i = 0; i < FEATURE_COUNT; i++)
		f->r[i].state = FEATURE_PRESENT;
	snprintf(f->r[FEATURE_LSM_ACTIVE].detail, sizeof(f->r[0].detail), "%s",
		 "lockdown,capability,landlock,bpf");
}

/* The host this was written on: BPF LSM active, function tracing refused. */
static void tracing_refused(struct features *f)
{
	all_present(f);
	f->r[FEATURE_TRACING].state = FEATURE_REFUSED;
	snprintf(f->r[FEATURE_TRACING].detail, sizeof(f->r[0].detail), "%s",
		 "the kernel refused to load an LSM program for file_open (EPERM)");
}

/* What print or print_json wrote, as a string to free. */
static char *printed(const struct features *f, bool json)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	assert_non_null(out);
	assert_int_equal(json ? features_print_json(f, out) : features_print(f, out), 0);
	fclose(out);
	return text;
}

static void test_lsm_list_names_bpf_only_as_a_whole_entry(void **state)
{
	(void)state;
	assert_true(features_lsm_list_has_bpf("lockdown,capability,landlock,bpf"));
	assert_true(features_lsm_list_has_bpf("bpf,landlock\n"));
	assert_true(features_lsm_list_has_bpf("capability,bpf\n"));
	assert_false(features_lsm_list_has_bpf("lockdown,capability,landlock"));
	assert_false(features_lsm_list_has_bpf("bpfilter,ebpf,bp"));
	assert_false(features_lsm_list_has_bpf(""));
}

static void test_everything_present_lacks_nothing(void **state)
{
	struct features f;

	(void)state;
	all_present(&f);
	assert_int_equal(features_first_lacking(&f, FEATURE_FOR_NETWORK), -1);
	assert_int_equal(features_first_lacking(&f, FEATURE_FOR_FILES), -1);
}

static void test_refused_tracing_degrades_files_only(void **state)
{
	struct features f;
	char why[400], how[300];

	(void)state;
	tracing_refused(&f);
	assert_int_equal(features_first_lacking(&f, FEATURE_FOR_NETWORK), -1);
	assert_int_equal(features_first_lacking(&f, FEATURE_FOR_FILES), FEATURE_TRACING);
	features_why(&f, FEATURE_TRACING, why, sizeof(why));
	assert_string_equal(why, "this host forbids function tracing: the kernel refused to load "
				 "an LSM program for file_open (EPERM)");
	features_how(&f, FEATURE_TRACING, how, sizeof(how));
	assert_string_equal(how, "use a kernel that lets BPF LSM programs load and attach");
}

static void test_missing_network_feature_stops_network(void **state)
{
	struct features f;
	char why[400];

	(void)state;
	all_present(&f);
	f.r[FEATURE_MAP_LPM_TRIE].state = FEATURE_MISSING;
	f.r[FEATURE_HELPER_LOOP].state = FEATURE_MISSING;
	assert_int_equal(features_first_lacking(&f, FEATURE_FOR_NETWORK), FEATURE_MAP_LPM_TRIE);
	/* LPM tries are the network programs' alone */
	assert_int_equal(features_first_lacking(&f, FEATURE_FOR_FILES), FEATURE_HELPER_LOOP);
	features_why(&f, FEATURE_MAP_LPM_TRIE, why, sizeof(why));
	assert_string_equal(why, "this kernel lacks BPF_MAP_TYPE_LPM_TRIE, needed for network "
				 "rules by address prefix (Linux 4.11)");
}

static void test_missing_btf_stops_both(void **state)
{
	struct features f;

	(void)state;
	all_present(&f);
	f.r[FEATURE_BTF].state = FEATURE_MISSING;
	f.r[FEATURE_LSM_ACTIVE].state = FEATURE_MISSING;
	assert_int_equal(features_first_lacking(&f, FEATURE_FOR_NETWORK), FEATURE_BTF);
	assert_int_equal(features_first_lacking(&f, FEATURE_FOR_FILES), FEATURE_BTF);
}

static void test_failed_probe_fails_closed(void **state)
{
	struct features f;
	char why[400], how[300];

	(void)state;
	all_present(&f);
	f.r[FEATURE_HELPER_ANCESTOR_CGROUP].state = FEATURE_UNKNOWN;
	snprintf(f.r[FEATURE_HELPER_ANCESTOR_CGROUP].detail, sizeof(f.r[0].detail), "%s",
		 "Operation not permitted");
	assert_int_equal(features_first_lacking(&f, FEATURE_FOR_NETWORK),
			 FEATURE_HELPER_ANCESTOR_CGROUP);
	features_why(&f, FEATURE_HELPER_ANCESTOR_CGROUP, why, sizeof(why));
	assert_string_equal(why, "bpf_get_current_ancestor_cgroup_id could not be probed "
				 "(Operation not permitted)");
	features_how(&f, FEATURE_HELPER_ANCESTOR_CGROUP, how, sizeof(how));
	assert_non_null(strstr(how, "as root"));
}

static void test_inactive_bpf_lsm_says_how_to_boot(void **state)
{
	struct features f;
	char why[400], how[300];

	(void)state;
	all_present(&f);
	f.r[FEATURE_LSM_ACTIVE].state = FEATURE_MISSING;
	snprintf(f.r[FEATURE_LSM_ACTIVE].detail, sizeof(f.r[0].detail), "%s",
		 "lockdown,capability,apparmor");
	assert_int_equal(features_first_lacking(&f, FEATURE_FOR_FILES), FEATURE_LSM_ACTIVE);
	features_why(&f, FEATURE_LSM_ACTIVE, why, sizeof(why));
	assert_string_equal(why, "BPF LSM is not among the kernel's active LSMs "
				 "(lockdown,capability,apparmor)");
	features_how(&f, FEATURE_LSM_ACTIVE, how, sizeof(how));
	assert_string_equal(how, "boot with lsm=lockdown,capability,apparmor,bpf");
}

static void test_table_lists_each_feature_and_both_verdicts(void **state)
{
	struct features f;
	char *text;
	int i;

	(void)state;
	tracing_refused(&f);
	text = printed(&f, false);
	for (i = 0; i < FEATURE_COUNT; i++)
		assert_non_null(strstr(text, features_title(i)));
	assert_non_null(strstr(text, "\nnetwork rules: enforceable\n"));
	assert_non_null(strstr(text, "\nfile rules: NOT enforceable: this host forbids function "
				     "tracing: the kernel refused to load an LSM program for "
				     "file_open (EPERM); to enforce them, use a kernel that lets "
				     "BPF LSM programs load and attach\n"));
	free(text);
}

static void test_json_holds_states_and_verdicts(void **state)
{
	struct json_object *doc, *list, *o, *v;
	struct features f;
	char *text;

	(void)state;
	tracing_refused(&f);
	text = printed(&f, true);
	doc = json_tokener_parse(text);
	assert_non_null(doc);

	assert_true(json_object_object_get_ex(doc, "features", &list));
	assert_int_equal(json_object_array_length(list), FEATURE_COUNT);
	o = json_object_array_get_idx(list, FEATURE_TRACING);
	assert_true(json_object_object_get_ex(o, "name", &v));
	assert_string_equal(json_object_get_string(v), "function_tracing");
	assert_true(json_object_object_get_ex(o, "state", &v));
	assert_string_equal(json_object_get_string(v), "refused");
	assert_true(json_object_object_get_ex(o, "needed_by", &v));
	assert_int_equal(json_object_array_length(v), 1);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(v, 0)), "files");

	assert_true(json_object_object_get_ex(doc, "network", &o));
	assert_true(json_object_object_get_ex(o, "enforceable", &v));
	assert_true(json_object_get_boolean(v));
	assert_false(json_object_object_get_ex(o, "lacking", &v));
	assert_true(json_object_object_get_ex(doc, "files", &o));
	assert_true(json_object_object_get_ex(o, "enforceable", &v));
	assert_false(json_object_get_boolean(v));
	assert_true(json_object_object_get_ex(o, "lacking", &v));
	assert_string_equal(json_object_get_string(v), "function_tracing");
	json_object_put(doc);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lsm_list_names_bpf_only_as_a_whole_entry),
		cmocka_unit_test(test_everything_present_lacks_nothing),
		cmocka_unit_test(test_refused_tracing_degrades_files_only),
		cmocka_unit_test(test_missing_network_feature_stops_network),
		cmocka_unit_test(test_missing_btf_stops_both),
		cmocka_unit_test(test_failed_probe_fails_closed),
		cmocka_unit_test(test_inactive_bpf_lsm_says_how_to_boot),
		cmocka_unit_test(test_table_lists_each_feature_and_both_verdicts),
		cmocka_unit_test(test_json_holds_states_and_verdicts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
