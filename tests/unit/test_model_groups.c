/* test_model_groups.c - the kiosk's group functions (ui/model_groups.h)
 * against a fake node: the commands they send, the rows they make of the
 * answers, the node's refusals passed on, the delivery line. */
#include "harness.h"

#include <stdio.h>
#include <string.h>

#include "ui/model.h"
#include "ui/model_groups.h"

/* A fake node: remembers the last command and args, answers from a table. */
struct fake {
	char cmd[32];
	json_t *args;
	const char *refuse;      /* non-NULL: every "group" call fails so */
};

static lc_err fake_call(void *ctx, const char *cmd, json_t *args, json_t **out, char *err,
			size_t errlen)
{
	struct fake *f = ctx;
	snprintf(f->cmd, sizeof(f->cmd), "%s", cmd);
	json_decref(f->args);
	f->args = json_deep_copy(args);
	*out = NULL;
	const char *op = json_string_value(json_object_get(args, "op"));
	if (strcmp(cmd, "group") == 0 && f->refuse) {
		snprintf(err, errlen, "%s", f->refuse);
		return LC_ERR_INVAL;
	}
	if (strcmp(cmd, "groups") == 0) {
		*out = json_loads("[{\"group\":\"00112233445566778899aabbccddeeff\","
				  "\"title\":\"crew\",\"admin\":\"ann\",\"version\":2,"
				  "\"members\":[\"ann\",\"ben\",\"cat\"],\"state\":\"member\","
				  "\"admin_is_me\":true}]", 0, NULL);
	} else if (op && strcmp(op, "history") == 0) {
		*out = json_loads("[{\"id\":\"aa\",\"from\":\"ben\",\"text\":\"hello there\","
				  "\"time_ms\":1700000000000,\"lamport\":3,\"seq\":1,"
				  "\"direction\":\"in\",\"status\":\"received\"}]", 0, NULL);
	} else if (op && strcmp(op, "create") == 0) {
		*out = json_loads("{\"group\":\"ffeeddccbbaa99887766554433221100\"}", 0, NULL);
	} else {
		*out = json_object();
	}
	return LC_OK;
}

static void setup(struct model *m, struct fake *f)
{
	memset(f, 0, sizeof(*f));
	model_init(m, (struct ui_backend){ .call = fake_call, .ctx = f });
}

TEST(model_group_rows_carry_the_last_message)
{
	struct model m;
	struct fake f;
	setup(&m, &f);
	struct model_group_row rows[4];
	char err[256];
	CHECK_INT(model_group_rows(&m, rows, 4, err, sizeof(err)), ==, 1);
	CHECK_STR(rows[0].id, "00112233445566778899aabbccddeeff");
	CHECK_STR(rows[0].title, "crew");
	CHECK_INT(rows[0].members, ==, 3);
	CHECK(rows[0].admin_is_me);
	CHECK_STR(rows[0].state, "member");
	CHECK_STR(rows[0].last_from, "ben");
	CHECK_STR(rows[0].last_text, "hello there");
	CHECK_INT(rows[0].last_time_ms, ==, 1700000000000);
	/* The last call asked for one line of that group's history. */
	CHECK_STR(f.cmd, "group");
	CHECK_STR(json_string_value(json_object_get(f.args, "op")), "history");
	CHECK_INT(json_integer_value(json_object_get(f.args, "limit")), ==, 1);
	json_decref(f.args);
	model_free(&m);
}

TEST(model_group_actions_send_the_commands_and_pass_refusals_on)
{
	struct model m;
	struct fake f;
	setup(&m, &f);
	char gid[33], err[256];
	const char *names[] = { "ben", "cat" };
	CHECK(model_group_create(&m, "crew", names, 2, gid, err, sizeof(err)));
	CHECK_STR(gid, "ffeeddccbbaa99887766554433221100");
	CHECK_INT(json_array_size(json_object_get(f.args, "names")), ==, 2);
	CHECK(model_group_do(&m, "send", gid, "hi all", err, sizeof(err)));
	CHECK_STR(json_string_value(json_object_get(f.args, "text")), "hi all");
	CHECK(model_group_do(&m, "remove", gid, "cat", err, sizeof(err)));
	CHECK_STR(json_string_value(json_object_get(f.args, "name")), "cat");
	CHECK(model_group_do(&m, "leave", gid, NULL, err, sizeof(err)));
	CHECK(json_object_get(f.args, "name") == NULL);
	f.refuse = "a group holds at most 32 members (you included); this one would have 33";
	CHECK(!model_group_create(&m, "big", names, 2, gid, err, sizeof(err)));
	CHECK_STR(gid, "");
	CHECK(strstr(err, "would have 33") != NULL);
	json_decref(f.args);
	model_free(&m);
}

TEST(model_group_delivery_line_and_colours)
{
	json_t *msg = json_loads("{\"direction\":\"out\",\"delivered\":2,\"of\":4,"
				 "\"waiting\":[\"cat\",\"dan\"],\"held\":[\"dan\"]}", 0, NULL);
	char line[200];
	model_group_delivery(msg, line, sizeof(line));
	CHECK_STR(line, "delivered to 2 of 4; waiting for cat, dan (held: key changed)");
	json_decref(msg);
	msg = json_loads("{\"direction\":\"in\"}", 0, NULL);
	model_group_delivery(msg, line, sizeof(line));
	CHECK_STR(line, "");
	json_decref(msg);
	CHECK_INT(model_sender_colour("ann", false), ==, model_sender_colour("ann", false));
	int differ = 0;
	const char *names[] = { "ann", "ben", "cat", "dan", "eve", "fay" };
	for (int i = 1; i < 6; i++)
		differ += model_sender_colour(names[i], false) != model_sender_colour(names[0], false);
	CHECK(differ >= 3);
	CHECK(model_sender_colour("ann", true) != model_sender_colour("ann", false));
}
